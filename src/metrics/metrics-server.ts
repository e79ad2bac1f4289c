// The optional HTTP endpoint Prometheus scrapes: GET /metrics in the text format, nothing
// else. Off unless metrics_address is set.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { messageOf } from "../errors.js";
import type { Logger } from "../log.js";
import type { CribMetrics } from "./crib-metrics.js";
import { formatListenAddress, parseMetricsAddress } from "./listen-address.js";

export interface MetricsServer {
  /** The bound address ("127.0.0.1:39123" when port 0 was asked for). */
  address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(address: string, metrics: CribMetrics, logger: Logger): Promise<MetricsServer> {
  const listen = parseMetricsAddress(address);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: crib serves /metrics only\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    metrics.exposition().then(
      ({ contentType, body }) => {
        res.writeHead(200, { "content-type": contentType });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (e: unknown) => {
        logger.warn("metrics scrape failed", { error: messageOf(e) });
        res.writeHead(500, { "content-type": "text/plain" }).end(`${messageOf(e)}\n`);
      },
    );
  });
  // A scrape is one request; idle keep-alive sockets must not hold up stop().
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const actual = formatListenAddress({ host: bound.address, port: bound.port });
  logger.info("serving metrics", { address: actual, path: "/metrics" });
  return {
    address: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
