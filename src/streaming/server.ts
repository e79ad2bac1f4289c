// crib's streaming server (kubelet's k8s.io/kubelet/pkg/cri/streaming server, as containerd
// runs it): HTTP/1.1 on stream_server_address:stream_server_port, optionally TLS. The Exec,
// Attach and PortForward RPCs store their validated request under a one-time token and
// return http://<addr>:<port>/{exec|attach|portforward}/<token>; the first GET or POST on
// that URL takes the request out (reused, expired or unknown: 404, nothing runs), then
// upgrades to SPDY/3.1 or WebSocket and hands the streams to the session. Stopping the
// server drops every session (their processes are killed or detached as each one says).
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { Logger } from "../log.js";
import { messageOf } from "../errors.js";
import { checkSpdyHandshake, upgradeToSpdy, writeHttpError } from "./spdy/upgrade.js";
import { SUPPORTED_PORT_FORWARD_PROTOCOLS, SUPPORTED_STREAM_PROTOCOLS } from "./remotecommand/constants.js";
import { PORT_FORWARD_WS_PROTOCOLS, REMOTE_COMMAND_WS_PROTOCOLS, WsProtocol } from "./websocket/channel.js";
import { isWebSocketRequest, WebSocketAcceptor } from "./websocket/upgrade.js";
import { spdyOverWebSocket } from "./websocket/spdy-tunnel.js";
import { TokenCache } from "./tokens.js";
import type { RemoteCommandIO, RemoteCommandOptions } from "./remote-command-io.js";
import { spdyRemoteCommandIO } from "./spdy-remote-command.js";
import { websocketRemoteCommandIO } from "./websocket-remote-command.js";
import { servePortForwardChannels, servePortForwardSpdy } from "./port-forward-session.js";
import type { PodNetwork } from "./port-forwarder.js";

export interface ExecStreamRequest extends RemoteCommandOptions {
  containerId: string;
  cmd: string[];
}

export interface AttachStreamRequest extends RemoteCommandOptions {
  containerId: string;
}

export interface PortForwardStreamRequest {
  podSandboxId: string;
  ports: number[];
}

export type StreamRequest =
  | { kind: "exec"; request: ExecStreamRequest }
  | { kind: "attach"; request: AttachStreamRequest }
  | { kind: "portforward"; request: PortForwardStreamRequest };

/** What runs behind a URL once its streams are up. */
export interface StreamingRuntime {
  exec(req: ExecStreamRequest, io: RemoteCommandIO): Promise<void>;
  attach(req: AttachStreamRequest, io: RemoteCommandIO): Promise<void>;
  /** The pod's network namespace; throws when the pod is gone or not ready. */
  podNetwork(podSandboxId: string): PodNetwork;
}

export interface StreamingServerOptions {
  address: string;
  /** "0" picks a free port. */
  port: string;
  tls?: { cert: Buffer; key: Buffer };
  /** stream_idle_timeout; 0 disables it. */
  idleTimeoutMs: number;
  streamCreationTimeoutMs?: number;
  runtime: StreamingRuntime;
  logger: Logger;
  tokens?: TokenCache<StreamRequest>;
}

const PATH = /^\/(exec|attach|portforward)\/([^/]+)$/;

/** Host part of the URL: what a client on this node dials. */
export function urlHost(address: string): string {
  const host = address === "" || address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  return host.includes(":") ? `[${host}]` : host;
}

interface Session {
  socket: Duplex;
  done: Promise<void>;
}

export class StreamingServer {
  readonly baseUrl: string;
  private readonly tokens: TokenCache<StreamRequest>;
  private readonly acceptor = new WebSocketAcceptor();
  private readonly sessions = new Set<Session>();

  private constructor(
    private readonly server: http.Server,
    private readonly opts: StreamingServerOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `${opts.tls ? "https" : "http"}://${urlHost(opts.address)}:${port}`;
    this.tokens = opts.tokens ?? new TokenCache();
    server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => this.onPlainRequest(req, res));
  }

  static async start(opts: StreamingServerOptions): Promise<StreamingServer> {
    const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }) : http.createServer();
    const port = Number(opts.port || "0");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, opts.address || undefined, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new StreamingServer(server, opts);
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Stores a validated request and returns its one-time URL (RESOURCE_EXHAUSTED when too many wait). */
  issue(stream: StreamRequest): string {
    const token = this.tokens.insert(stream);
    return `${this.baseUrl}/${stream.kind}/${token}`;
  }

  /** Stops listening and drops every session; resolves once their cleanup is done (bounded). */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sessions) s.socket.destroy();
    const done = Promise.all([...this.sessions].map((s) => s.done));
    await Promise.race([done, new Promise((r) => setTimeout(r, 15_000).unref())]);
    this.acceptor.close();
    await closed;
  }

  /** The request a URL names, taken out of the cache; or why there is none. */
  private take(req: http.IncomingMessage): StreamRequest | { status: 404 | 405; message: string } {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const match = PATH.exec(path);
    if (!match) return { status: 404, message: "404 page not found" };
    if (req.method !== "GET" && req.method !== "POST") return { status: 405, message: "405: Method Not Allowed" };
    const stream = this.tokens.consume(match[2]!);
    if (!stream || stream.kind !== match[1]) return { status: 404, message: "404 page not found" };
    return stream;
  }

  /** A request without Upgrade: the token is spent, and the handshake fails as kubelet's does. */
  private onPlainRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const stream = this.take(req);
    let status: number;
    let message: string;
    if ("status" in stream) ({ status, message } = stream);
    else {
      const protocols = stream.kind === "portforward" ? SUPPORTED_PORT_FORWARD_PROTOCOLS : SUPPORTED_STREAM_PROTOCOLS;
      const check = checkSpdyHandshake(req.headers, protocols);
      status = check.ok ? 400 : check.status;
      message = check.ok ? "unable to upgrade: missing upgrade headers in request" : check.message;
      if (!check.ok) for (const [k, v] of Object.entries(check.headers)) res.setHeader(k, v);
    }
    res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
    res.end(`${message}\n`);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => {}); // the session (or nobody) watches 'close'
    const stream = this.take(req);
    if ("status" in stream) return writeHttpError(socket, stream.status, stream.message);
    const log = { kind: stream.kind, remote: req.socket.remoteAddress };
    // Dropping the connection is how a session is stopped: each one treats it as a client
    // that went away.
    const session: Session = {
      socket,
      done: this.serve(stream, req, socket, head).catch((e) => {
        this.opts.logger.warn("streaming session failed", { ...log, error: messageOf(e) });
        socket.destroy();
      }),
    };
    this.sessions.add(session);
    void session.done.finally(() => this.sessions.delete(session));
  }

  private serve(stream: StreamRequest, req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    switch (stream.kind) {
      case "exec":
        return this.serveRemoteCommand(req, socket, head, stream.request, (io) => this.opts.runtime.exec(stream.request, io));
      case "attach":
        return this.serveRemoteCommand(req, socket, head, stream.request, (io) => this.opts.runtime.attach(stream.request, io));
      case "portforward":
        return this.servePortForward(req, socket, head, stream.request);
    }
  }

  private async serveRemoteCommand(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    opts: RemoteCommandOptions,
    run: (io: RemoteCommandIO) => Promise<void>,
  ): Promise<void> {
    const idle = this.opts.idleTimeoutMs;
    let io: RemoteCommandIO | undefined;
    if (isWebSocketRequest(req.headers)) {
      io = await this.acceptor.accept(req, socket, head, REMOTE_COMMAND_WS_PROTOCOLS, (ws, protocol) =>
        websocketRemoteCommandIO(ws, protocol, opts, idle),
      );
    } else {
      const up = upgradeToSpdy(req.headers, socket, head, SUPPORTED_STREAM_PROTOCOLS, { idleTimeoutMs: idle });
      if (up) io = await spdyRemoteCommandIO(up.connection, up.protocol, opts, this.opts.streamCreationTimeoutMs);
    }
    if (io) await run(io);
  }

  private async servePortForward(req: http.IncomingMessage, socket: Duplex, head: Buffer, pf: PortForwardStreamRequest): Promise<void> {
    const runtime = this.opts.runtime;
    const pod = { sandboxId: pf.podSandboxId, network: () => runtime.podNetwork(pf.podSandboxId) };
    const sessionOpts = { logger: this.opts.logger, streamCreationTimeoutMs: this.opts.streamCreationTimeoutMs };
    const idle = this.opts.idleTimeoutMs;
    if (isWebSocketRequest(req.headers)) {
      const allowed = [WsProtocol.SpdyPortForward, ...PORT_FORWARD_WS_PROTOCOLS];
      const run = await this.acceptor.accept(req, socket, head, allowed, (ws: WebSocket, protocol) => {
        if (protocol === WsProtocol.SpdyPortForward) {
          const conn = spdyOverWebSocket(ws, { role: "server", idleTimeoutMs: idle });
          return servePortForwardSpdy(conn, pod, sessionOpts);
        }
        return servePortForwardChannels(ws, protocol, pf.ports, pod, idle, sessionOpts);
      });
      await run;
      return;
    }
    const up = upgradeToSpdy(req.headers, socket, head, SUPPORTED_PORT_FORWARD_PROTOCOLS, { idleTimeoutMs: idle });
    if (up) await servePortForwardSpdy(up.connection, pod, sessionOpts);
  }
}
