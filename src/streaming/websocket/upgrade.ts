// Accepting a WebSocket for a streaming request. Subprotocol choice follows
// golang.org/x/net/websocket as kubelet uses it: the client's first protocol that the
// endpoint allows wins; no Sec-WebSocket-Protocol at all means "" (binary channels) where
// allowed; anything else is refused with 403 before the upgrade.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { headerList, writeHttpError } from "../spdy/upgrade.js";

/** Largest message accepted: a SPDY frame (16 MiB) tunnelled whole fits. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024 + 64;

/** apimachinery wsstream.IsWebSocketRequest: Upgrade: websocket and Connection containing upgrade. */
export function isWebSocketRequest(headers: IncomingHttpHeaders): boolean {
  return (
    (headers.upgrade ?? "").toLowerCase() === "websocket" &&
    headerList(headers.connection).some((v) => v.toLowerCase() === "upgrade")
  );
}

export function requestedProtocols(headers: IncomingHttpHeaders): string[] {
  return headerList(headers["sec-websocket-protocol"]);
}

export function selectWebSocketProtocol(requested: readonly string[], allowed: readonly string[]): string | undefined {
  if (requested.length === 0) return allowed.includes("") ? "" : undefined;
  return requested.find((p) => p !== "" && allowed.includes(p));
}

/** One server can accept for every endpoint: the protocol is chosen per request beforehand. */
export class WebSocketAcceptor {
  private readonly chosen = new WeakMap<IncomingMessage, string>();
  private readonly wss: WebSocketServer;

  constructor(options: { maxPayload?: number } = {}) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      handleProtocols: (_offered, req) => this.chosen.get(req) || false,
    });
  }

  /**
   * Completes the upgrade of an 'upgrade' event with one of `allowed` and runs `setup` on the
   * new WebSocket synchronously (so no early message can slip past it); or answers 403 and
   * resolves undefined.
   */
  accept<T>(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    allowed: readonly string[],
    setup: (ws: WebSocket, protocol: string) => T,
  ): Promise<T | undefined> {
    const requested = requestedProtocols(req.headers);
    const protocol = selectWebSocketProtocol(requested, allowed);
    if (protocol === undefined) {
      const quoted = (l: readonly string[]) => `[${l.join(" ")}]`;
      writeHttpError(socket, 403, `requested protocol(s) are not supported: ${quoted(requested)}; supports ${quoted(allowed)}`);
      return Promise.resolve(undefined);
    }
    this.chosen.set(req, protocol);
    // ws checks offered subprotocols against RFC 7230 token syntax and answers 400 to
    // "SPDY/3.1+portforward.k8s.io" (the '/' is not a token character), which gorilla, and
    // so client-go, sends without a second thought. The choice is already made: hand ws a
    // token in its place; handleProtocols answers with the real name.
    if (protocol !== "") req.headers["sec-websocket-protocol"] = "selected";
    return new Promise((resolve, reject) => {
      // handleUpgrade answers bad handshakes (400) itself and never calls back.
      socket.once("close", () => resolve(undefined));
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        try {
          resolve(setup(ws, protocol));
        } catch (err) {
          ws.terminate();
          reject(err);
        }
      });
    });
  }

  close(): void {
    this.wss.close();
  }
}
