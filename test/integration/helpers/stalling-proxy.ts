// A registry front on 127.0.0.1 that passes manifests through but stops blob downloads
// after a few bytes and holds the connection open: a registry that hangs mid-pull, for
// image_pull_progress_timeout tests. It also writes the certs.d hosts dir containerd
// needs to reach it over plain HTTP.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { hostsToml } from "../../harness/registry.js";

export interface StallingProxy {
  /** "127.0.0.1:<port>": use it as the registry host of a reference. */
  host: string;
  /** A hosts dir with the harness registries and this proxy. */
  hostsDir: string;
  /** Blob downloads that were cut off so far. */
  stalled(): number;
  close(): Promise<void>;
}

export async function startStallingProxy(opts: { upstream: string; harnessHostsDir: string; dir: string; bytesBeforeStall: number }): Promise<StallingProxy> {
  let stalls = 0;
  const held: Array<IncomingMessage> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const up = request(
      { host: opts.upstream.split(":")[0], port: Number(opts.upstream.split(":")[1]), method: req.method, path: req.url, headers: { ...req.headers, host: opts.upstream } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const isBlob = req.method === "GET" && /\/blobs\/sha256:/.test(req.url ?? "") && upRes.statusCode === 200;
        if (!isBlob) {
          upRes.pipe(res);
          return;
        }
        let sent = 0;
        upRes.on("data", (chunk: Buffer) => {
          if (sent >= opts.bytesBeforeStall) return;
          const part = chunk.subarray(0, opts.bytesBeforeStall - sent);
          sent += part.length;
          res.write(part);
          if (sent >= opts.bytesBeforeStall) {
            stalls++;
            upRes.pause();
            held.push(upRes);
          }
        });
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  const hostsDir = join(opts.dir, "hosts");
  cpSync(opts.harnessHostsDir, hostsDir, { recursive: true });
  mkdirSync(join(hostsDir, host), { recursive: true });
  writeFileSync(join(hostsDir, host, "hosts.toml"), hostsToml(host));

  return {
    host,
    hostsDir,
    stalled: () => stalls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of held) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
