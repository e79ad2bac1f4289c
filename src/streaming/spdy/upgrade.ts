// The HTTP/1.1 handshake that turns a streaming request into a SPDY/3.1 session, as kubelet
// does it (apimachinery httpstream.Handshake, then spdy.responseUpgrader): negotiate the
// subprotocol from X-Stream-Protocol-Version first (missing: 400, no common version: 403
// listing X-Accepted-Stream-Protocol-Versions), then require Connection: Upgrade and
// Upgrade: SPDY/3.1 (missing: 400), then answer 101 and speak SPDY on the socket.
import type { IncomingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import { Socket } from "node:net";
import { SpdyConnection, type SpdyConnectionOptions } from "./connection.js";
import {
  HEADER_ACCEPTED_PROTOCOL_VERSIONS,
  HEADER_PROTOCOL_VERSION,
  SPDY_31,
} from "../remotecommand/constants.js";

export type HandshakeResult =
  | { ok: true; protocol: string }
  | { ok: false; status: 400 | 403; message: string; headers: Record<string, string | string[]> };

/** Values of a possibly repeated, comma-separated header, trimmed, empties dropped. */
export function headerList(value: string | string[] | undefined): string[] {
  const lines = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return lines.flatMap((line) => line.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

/** The first protocol in the client's order that the server also speaks. */
export function negotiateProtocol(client: readonly string[], server: readonly string[]): string | undefined {
  return client.find((p) => server.includes(p));
}

const goList = (values: readonly string[]) => `[${values.join(" ")}]`;

/** Decides the handshake from the request headers alone (Node lower-cases their names). */
export function checkSpdyHandshake(headers: IncomingHttpHeaders, serverProtocols: readonly string[]): HandshakeResult {
  const clientProtocols = headerList(headers[HEADER_PROTOCOL_VERSION.toLowerCase()]);
  if (clientProtocols.length === 0) {
    return { ok: false, status: 400, message: `unable to upgrade: ${HEADER_PROTOCOL_VERSION} is required`, headers: {} };
  }
  const protocol = negotiateProtocol(clientProtocols, serverProtocols);
  if (protocol === undefined) {
    return {
      ok: false,
      status: 403,
      message:
        `unable to upgrade: unable to negotiate protocol: client supports ${goList(clientProtocols)}, ` +
        `server accepts ${goList(serverProtocols)}`,
      headers: { [HEADER_ACCEPTED_PROTOCOL_VERSIONS]: [...serverProtocols] },
    };
  }
  const connection = headerList(headers.connection).map((v) => v.toLowerCase());
  const upgrade = (headers.upgrade ?? "").toLowerCase();
  if (!connection.includes("upgrade") || !upgrade.includes(SPDY_31.toLowerCase())) {
    return { ok: false, status: 400, message: "unable to upgrade: missing upgrade headers in request", headers: {} };
  }
  return { ok: true, protocol };
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found" };

/** An http.Error-style plain-text response written straight to an upgrade socket, then closed. */
export function writeHttpError(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string | string[]> = {},
): void {
  const body = `${message}\n`;
  const lines = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`];
  const all: Record<string, string | string[]> = {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    ...headers,
    "Content-Length": String(Buffer.byteLength(body)),
    Connection: "close",
  };
  for (const [name, value] of Object.entries(all)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}

/**
 * Answers 101 Switching Protocols on the socket of an 'upgrade' event and starts a server
 * SPDY session on it. `head` is the part of the stream Node read past the request headers.
 */
export function acceptSpdyUpgrade(
  socket: Duplex,
  head: Buffer,
  protocol: string,
  options: Omit<SpdyConnectionOptions, "role"> = {},
): SpdyConnection {
  if (socket instanceof Socket) socket.setNoDelay(true);
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\n" +
      "Connection: Upgrade\r\n" +
      `Upgrade: ${SPDY_31}\r\n` +
      `${HEADER_PROTOCOL_VERSION}: ${protocol}\r\n` +
      `Date: ${new Date().toUTCString()}\r\n\r\n`,
  );
  if (head.length > 0) socket.unshift(head);
  return new SpdyConnection(socket, { ...options, role: "server" });
}

/**
 * The whole server side for an 'upgrade' event: handshake, then either an error response
 * (and undefined) or the new session with its negotiated protocol.
 */
export function upgradeToSpdy(
  headers: IncomingHttpHeaders,
  socket: Duplex,
  head: Buffer,
  serverProtocols: readonly string[],
  options: Omit<SpdyConnectionOptions, "role"> = {},
): { connection: SpdyConnection; protocol: string } | undefined {
  const result = checkSpdyHandshake(headers, serverProtocols);
  if (!result.ok) {
    writeHttpError(socket, result.status, result.message, result.headers);
    return undefined;
  }
  return { connection: acceptSpdyUpgrade(socket, head, result.protocol, options), protocol: result.protocol };
}
