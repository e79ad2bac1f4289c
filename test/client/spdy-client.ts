// crib's own SPDY client: the HTTP upgrade client-go's SPDY round tripper performs (POST,
// Connection: Upgrade, Upgrade: SPDY/3.1, one X-Stream-Protocol-Version line per protocol),
// then a client-role session. Used by tests and benchmarks against crib and against
// containerd's built-in streaming server.
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { Socket } from "node:net";
import { SpdyConnection, type SpdyConnectionOptions } from "../../src/streaming/spdy/connection.js";
import { headerList } from "../../src/streaming/spdy/upgrade.js";
import { HEADER_ACCEPTED_PROTOCOL_VERSIONS, HEADER_PROTOCOL_VERSION, SPDY_31 } from "../../src/streaming/remotecommand/constants.js";

export interface DialSpdyOptions {
  /** Protocols offered in X-Stream-Protocol-Version, most preferred first. */
  protocols: readonly string[];
  /** client-go and crictl use POST. */
  method?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** For https URLs: crictl talks to the streaming server with TLS verification off. */
  rejectUnauthorized?: boolean;
  connection?: Omit<SpdyConnectionOptions, "role">;
}

export interface SpdyClientSession {
  connection: SpdyConnection;
  /** Negotiated protocol ("" when the server did not say, which client-go reads as v1). */
  protocol: string;
}

/** The server refused the upgrade; carries what client-go would show. */
export class SpdyUpgradeError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly acceptedProtocols: string[],
  ) {
    super(`unable to upgrade connection: ${body.trim() || `HTTP ${status}`}`);
    this.name = "SpdyUpgradeError";
  }
}

export function dialSpdy(url: string | URL, options: DialSpdyOptions): Promise<SpdyClientSession> {
  const target = typeof url === "string" ? new URL(url) : url;
  const request = target.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: options.method ?? "POST",
      headers: {
        ...options.headers,
        Connection: "Upgrade",
        Upgrade: SPDY_31,
        [HEADER_PROTOCOL_VERSION]: [...options.protocols],
      },
      timeout: options.timeoutMs ?? 30_000,
      rejectUnauthorized: options.rejectUnauthorized ?? false,
    });
    req.on("timeout", () => req.destroy(new Error(`SPDY upgrade to ${target.href} timed out`)));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const accepted = headerList(res.headers[HEADER_ACCEPTED_PROTOCOL_VERSIONS.toLowerCase()]);
        reject(new SpdyUpgradeError(res.statusCode ?? 0, Buffer.concat(chunks).toString(), accepted));
      });
    });
    req.on("upgrade", (res, socket: Duplex, head: Buffer) => {
      const connection = headerList(res.headers.connection).map((v) => v.toLowerCase());
      const upgrade = (res.headers.upgrade ?? "").toLowerCase();
      if (res.statusCode !== 101 || !connection.includes("upgrade") || !upgrade.includes(SPDY_31.toLowerCase())) {
        socket.destroy();
        return reject(new SpdyUpgradeError(res.statusCode ?? 0, "the server did not switch to SPDY/3.1", []));
      }
      if (socket instanceof Socket) {
        socket.setNoDelay(true);
        socket.setTimeout(0);
      }
      if (head.length > 0) socket.unshift(head);
      const protocol = headerList(res.headers[HEADER_PROTOCOL_VERSION.toLowerCase()])[0] ?? "";
      resolve({ connection: new SpdyConnection(socket, { ...options.connection, role: "client" }), protocol });
    });
    req.end();
  });
}
