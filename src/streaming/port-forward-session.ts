// Port-forward sessions as kubelet's portforward server runs them, over the three
// transports: SPDY (httpstream.go: every connection the client forwards is a pair of
// streams, error and data, tagged with the port and a requestID; each stream is accepted
// on arrival and a pair starts forwarding once complete), SPDY tunnelled in WebSocket
// (the same session on another byte stream), and WebSocket channels (websocket.go: a data
// and an error channel per port of the request, forwarded at once, the connection closed
// when all are done). Each connection's failure goes on its own error stream only.
import type { Readable, Writable } from "node:stream";
import type { WebSocket } from "ws";
import type { Logger } from "../log.js";
import { messageOf } from "../errors.js";
import type { SpdyConnection } from "./spdy/connection.js";
import type { SpdyStream } from "./spdy/stream.js";
import { headerValue } from "./spdy/header-compression.js";
import { PORT_FORWARD_REQUEST_ID_HEADER, PORT_HEADER, STREAM_TYPE_HEADER, StreamType } from "./remotecommand/constants.js";
import { openPortForwardChannels } from "./websocket/port-forward.js";
import { forwardPort, type PodNetwork } from "./port-forwarder.js";

/** The pod of a session; its network is looked up per connection (the pod may go away). */
export interface PortForwardTarget {
  sandboxId: string;
  /** Throws when the pod is gone or not ready. */
  network(): PodNetwork;
}

function forwardTo(target: PortForwardTarget, port: number, input: Readable, output: Writable, signal: AbortSignal): Promise<void> {
  return Promise.resolve().then(() => forwardPort(target.network(), port, input, output, signal));
}
import { STREAM_CREATION_TIMEOUT_MS } from "./spdy-remote-command.js";
import { IdleTimer } from "./idle-timer.js";
import { touchingWritable } from "./websocket-remote-command.js";
import { setTimerWithin } from "../timer-limit.js";

export interface PortForwardSessionOptions {
  logger: Logger;
  /** How long the second stream of a pair may take to arrive. */
  streamCreationTimeoutMs?: number;
}

/** kubelet's wording, which client-go prints as "an error occurred forwarding ...". */
export function forwardingErrorMessage(sandboxId: string, port: number, err: unknown): string {
  return `error forwarding port ${port} to pod ${sandboxId}, uid : ${messageOf(err)}`;
}

/** Why a stream is refused (httpStreamReceived); undefined when it is acceptable. */
export function checkPortForwardStream(port: string | undefined, streamType: string | undefined): string | undefined {
  if (!port) return `"${PORT_HEADER}" header is required`;
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  if (!streamType) return `"${STREAM_TYPE_HEADER}" header is required`;
  if (streamType !== StreamType.Error && streamType !== StreamType.Data) return `invalid stream type "${streamType}"`;
  return undefined;
}

/**
 * The pair a stream belongs to. Old clients send no requestID: as kubelet, pair by stream
 * id (error stream n, data stream n+2), which only holds without concurrent connections.
 */
export function pairRequestId(requestId: string | undefined, streamType: string, streamId: number): string {
  if (requestId) return requestId;
  return String(streamType === StreamType.Data ? streamId - 2 : streamId);
}

interface StreamPair {
  requestId: string;
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout | undefined;
}

/** Serves port-forward streams on a SPDY session until it closes; resolves then. */
export function servePortForwardSpdy(conn: SpdyConnection, pod: PortForwardTarget, opts: PortForwardSessionOptions): Promise<void> {
  const pairs = new Map<string, StreamPair>();
  const abort = new AbortController();
  const creationTimeoutMs = opts.streamCreationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS;

  const printError = (p: StreamPair, msg: string) => {
    if (p.error && !p.error.writableEnded) p.error.write(msg);
  };
  const run = (p: StreamPair, error: SpdyStream, data: SpdyStream) => {
    const port = Number(headerValue(data.headers, PORT_HEADER));
    opts.logger.debug("port-forward connection", { podSandboxId: pod.sandboxId, port, requestId: p.requestId });
    forwardTo(pod, port, data, data, abort.signal)
      .catch((e) => {
        opts.logger.debug("port-forward connection failed", { podSandboxId: pod.sandboxId, port, error: messageOf(e) });
        printError(p, forwardingErrorMessage(pod.sandboxId, port, e));
      })
      .finally(() => {
        data.end();
        error.end();
      });
  };

  conn.on("stream", (stream: SpdyStream) => {
    stream.on("error", () => {});
    const streamType = headerValue(stream.headers, STREAM_TYPE_HEADER);
    const refused = checkPortForwardStream(headerValue(stream.headers, PORT_HEADER), streamType);
    if (refused) {
      opts.logger.debug("port-forward stream refused", { podSandboxId: pod.sandboxId, reason: refused });
      stream.reset();
      return;
    }
    stream.accept();
    const requestId = pairRequestId(headerValue(stream.headers, PORT_FORWARD_REQUEST_ID_HEADER), streamType!, stream.id);
    let p = pairs.get(requestId);
    if (!p) {
      const pair: StreamPair = {
        requestId,
        timer: setTimerWithin(creationTimeoutMs, () => {
          printError(pair, `(conn, request=${requestId}) timed out waiting for streams`);
          pair.error?.end();
          pair.data?.reset();
          pairs.delete(requestId);
        }),
      };
      pair.timer?.unref();
      pairs.set(requestId, pair);
      p = pair;
    }
    const slot = streamType === StreamType.Error ? "error" : "data";
    if (p[slot]) {
      printError(p, `error processing stream for request ${requestId}: ${slot} stream already assigned`);
      stream.reset();
      return;
    }
    p[slot] = stream;
    // The client only ever half-closes the error stream; read it so that is noticed.
    if (slot === "error") stream.resume();
    if (p.error && p.data) {
      clearTimeout(p.timer);
      pairs.delete(requestId);
      run(p, p.error, p.data);
    }
  });

  return new Promise((resolve) => {
    const done = () => {
      abort.abort();
      for (const p of pairs.values()) clearTimeout(p.timer);
      pairs.clear();
      resolve();
    };
    if (conn.isClosed) done();
    else conn.once("close", done);
  });
}

/** kubelet's WebSocket port-forward: the request's ports, a data and an error channel each. */
export async function servePortForwardChannels(
  ws: WebSocket,
  protocol: string,
  ports: readonly number[],
  pod: PortForwardTarget,
  idleTimeoutMs: number,
  opts: PortForwardSessionOptions,
): Promise<void> {
  const pf = openPortForwardChannels(ws, protocol, ports);
  const idle = new IdleTimer(idleTimeoutMs, () => pf.close());
  ws.on("message", () => idle.touch());
  const abort = new AbortController();
  const closed = pf.channels.whenClosed().then(() => abort.abort());
  await Promise.all(
    pf.pairs.map(async ({ port, data, error }) => {
      const output: Writable = touchingWritable(data, () => idle.touch());
      await forwardTo(pod, port, data as Readable, output, abort.signal).catch((e) => {
        if (!abort.signal.aborted) error.write(forwardingErrorMessage(pod.sandboxId, port, e));
      });
    }),
  );
  idle.stop();
  pf.close();
  void closed;
}
