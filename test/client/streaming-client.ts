// Streaming clients for tests and benchmarks, on crib's own SPDY and WebSocket code, doing
// what client-go does with an Exec/Attach/PortForward URL (kubectl, crictl): exec and
// attach over SPDY (v4 error stream) or WebSocket (v5), and port-forward connections over
// SPDY (data + error stream per connection, tagged with port and requestID).
import type { Readable } from "node:stream";
import { dialSpdy, type SpdyClientSession } from "./spdy-client.js";
import { openPortForwardStreams, openRemoteCommandStreams } from "../../src/streaming/spdy/k8s-streams.js";
import type { SpdyStream } from "../../src/streaming/spdy/stream.js";
import { decodeStatus } from "../../src/streaming/remotecommand/status.js";
import { SUPPORTED_PORT_FORWARD_PROTOCOLS, SUPPORTED_STREAM_PROTOCOLS } from "../../src/streaming/remotecommand/constants.js";
import { dialRemoteCommand } from "./websocket-client.js";

export interface RemoteCommandRun {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  tty?: boolean;
  /** Written to stdin, which is then closed (unless keepStdinOpen). */
  input?: string | Buffer;
  keepStdinOpen?: boolean;
  /** Sent on the resize stream first. */
  size?: { width: number; height: number };
  protocols?: readonly string[];
}

export interface RemoteCommandResult {
  stdout: string;
  stderr: string;
  /** From the error stream: the exit code, or the failure message. */
  exitCode?: number;
  error?: string;
  protocol: string;
}

/** Reads a stream to its end; start it before anything can close the stream unread. */
export function readAll(stream: Readable | undefined): Promise<string> {
  if (!stream || stream.destroyed || stream.readableEnded) return Promise.resolve("");
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.resume(); // a stream paused on purpose does not flow again by itself
  return new Promise((resolve) => {
    const done = () => resolve(Buffer.concat(chunks).toString("utf8"));
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}

function outcome(errorText: string): { exitCode?: number; error?: string } {
  try {
    return decodeStatus(errorText);
  } catch {
    return { error: errorText };
  }
}

/** Opens the SPDY session and client-go's stream set; the caller drives the streams. */
export async function openSpdyRemoteCommand(url: string, run: RemoteCommandRun) {
  const session = await dialSpdy(url, { protocols: run.protocols ?? SUPPORTED_STREAM_PROTOCOLS });
  const opts = { stdin: run.stdin ?? false, stdout: run.stdout ?? true, stderr: run.stderr ?? !run.tty, tty: run.tty ?? false };
  const streams = await openRemoteCommandStreams(session.connection, { ...opts, protocol: session.protocol });
  for (const s of Object.values(streams) as SpdyStream[]) s.on("error", () => {});
  return { session, streams };
}

/** Exec or attach over SPDY to the end, as client-go's streamProtocolV4 does. */
export async function runSpdyRemoteCommand(url: string, run: RemoteCommandRun): Promise<RemoteCommandResult> {
  const { session, streams } = await openSpdyRemoteCommand(url, run);
  try {
    if (run.size && streams.resize) streams.resize.write(JSON.stringify({ Width: run.size.width, Height: run.size.height }));
    if (streams.stdin && run.input !== undefined) streams.stdin.write(run.input);
    if (streams.stdin && !run.keepStdinOpen) streams.stdin.end();
    // All three are read from the start (client-go watches the error stream at once): the
    // server may close the session right after the status, before stdout's end is seen.
    const [stdout, stderr, errorText] = await Promise.all([readAll(streams.stdout), readAll(streams.stderr), readAll(streams.error)]);
    return { stdout, stderr, ...outcome(errorText), protocol: session.protocol };
  } finally {
    await session.connection.close();
  }
}

/** Exec or attach over WebSocket (v5 by default: crictl --transport websocket). */
export async function runWebSocketRemoteCommand(url: string, run: RemoteCommandRun): Promise<RemoteCommandResult> {
  const client = await dialRemoteCommand(url, run.protocols);
  const out = readAll(client.stdout);
  const err = readAll(client.stderr);
  const status = readAll(client.error);
  if (run.size) client.resize.write(JSON.stringify({ Width: run.size.width, Height: run.size.height }));
  if (run.input !== undefined) client.stdin.write(run.input);
  if (!run.keepStdinOpen && run.stdin) client.stdin.end();
  await client.channels.whenClosed();
  const [stdout, stderr, errorText] = await Promise.all([out, err, status]);
  return { stdout, stderr, ...outcome(errorText), protocol: client.protocol };
}

export interface PortForwardClient {
  session: SpdyClientSession;
  /** One forwarded connection: its data stream, and its error stream's text once it ends. */
  connect(port: number): Promise<{ data: SpdyStream; error: Promise<string> }>;
  close(): Promise<void>;
}

export async function dialPortForward(url: string, dial: (url: string) => Promise<SpdyClientSession> = (u) => dialSpdy(u, { protocols: SUPPORTED_PORT_FORWARD_PROTOCOLS })): Promise<PortForwardClient> {
  const session = await dial(url);
  let requestId = 0;
  return {
    session,
    async connect(port: number) {
      const { error, data } = await openPortForwardStreams(session.connection, port, requestId++);
      data.on("error", () => {});
      error.on("error", () => {});
      return { data, error: readAll(error) };
    },
    close: () => session.connection.close(),
  };
}

/** Sends a request on a forwarded connection and reads the answer to EOF. */
export async function roundTrip(data: SpdyStream, request: string | Buffer, endAfterWrite = false): Promise<string> {
  const answer = readAll(data);
  data.write(request);
  if (endAfterWrite) data.end();
  return answer;
}
