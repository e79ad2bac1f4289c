// The streams client-go opens on a SPDY session, in its order, for crib's test client:
// exec/attach (error, stdin, stdout, stderr, resize; remotecommand v2-v4 createStreams) and
// port-forward (an error stream, whose write side client-go closes at once, then a data
// stream, both tagged with port and requestID).
import type { SpdyConnection } from "./connection.js";
import type { SpdyStream } from "./stream.js";
import {
  PORT_FORWARD_REQUEST_ID_HEADER,
  PORT_HEADER,
  STREAM_TYPE_HEADER,
  StreamType,
  supportsResize,
} from "../remotecommand/constants.js";

export interface RemoteCommandStreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** Negotiated protocol: the resize stream exists from v3 on. */
  protocol: string;
}

export interface RemoteCommandStreams {
  error: SpdyStream;
  stdin?: SpdyStream;
  stdout?: SpdyStream;
  stderr?: SpdyStream;
  resize?: SpdyStream;
}

export async function openRemoteCommandStreams(
  connection: SpdyConnection,
  opts: RemoteCommandStreamOptions,
  replyTimeoutMs = 30_000,
): Promise<RemoteCommandStreams> {
  const open = (type: string) => connection.openStream({ [STREAM_TYPE_HEADER]: type });
  const streams: RemoteCommandStreams = { error: open(StreamType.Error) };
  if (opts.stdin) streams.stdin = open(StreamType.Stdin);
  if (opts.stdout) streams.stdout = open(StreamType.Stdout);
  // client-go does not open stderr for a tty (the pty merges it).
  if (opts.stderr && !opts.tty) streams.stderr = open(StreamType.Stderr);
  if (opts.tty && supportsResize(opts.protocol)) streams.resize = open(StreamType.Resize);
  await Promise.all(Object.values(streams).map((s: SpdyStream) => s.waitForReply(replyTimeoutMs)));
  return streams;
}

export async function openPortForwardStreams(
  connection: SpdyConnection,
  port: number,
  requestId: string | number,
  replyTimeoutMs = 30_000,
): Promise<{ error: SpdyStream; data: SpdyStream }> {
  const headers = (type: string) => ({
    [STREAM_TYPE_HEADER]: type,
    [PORT_HEADER]: String(port),
    [PORT_FORWARD_REQUEST_ID_HEADER]: String(requestId),
  });
  const error = connection.openStream(headers(StreamType.Error));
  await error.waitForReply(replyTimeoutMs);
  error.end(); // client-go: errorStream.Close(), the server only writes on it
  const data = connection.openStream(headers(StreamType.Data));
  await data.waitForReply(replyTimeoutMs);
  return { error, data };
}
