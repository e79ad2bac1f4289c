// Exec/attach over SPDY as kubelet's remotecommand server sets it up (createHTTPStreamStreams
// and the v1-v4 protocol handlers): the client opens one stream per stdio stream it wants,
// typed by the streamType header, plus the error stream and, for a tty from v3 on, the resize
// stream. Every stream is accepted when it arrives; the session starts once as many known
// streams arrived as the request implies, or the connection is closed if they do not come
// within the stream creation timeout.
import type { Readable, Writable } from "node:stream";
import type { SpdyConnection } from "./spdy/connection.js";
import type { SpdyStream } from "./spdy/stream.js";
import { headerValue } from "./spdy/header-compression.js";
import { STREAM_TYPE_HEADER, StreamProtocol, StreamType, supportsResize } from "./remotecommand/constants.js";
import { errorStreamPayload, type Status } from "./remotecommand/status.js";
import { ended, type RemoteCommandIO, type RemoteCommandOptions } from "./remote-command-io.js";

/** kubelet's DefaultStreamCreationTimeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

const KNOWN_TYPES: readonly string[] = [StreamType.Error, StreamType.Stdin, StreamType.Stdout, StreamType.Stderr, StreamType.Resize];

/** How many streams kubelet waits for: error, one per requested stdio stream, resize for a tty (v3+). */
export function expectedStreamCount(protocol: string, opts: RemoteCommandOptions): number {
  let n = 1;
  if (opts.stdin) n++;
  if (opts.stdout) n++;
  if (opts.stderr) n++;
  if (opts.tty && supportsResize(protocol)) n++;
  return n;
}

export class StreamCreationError extends Error {
  override name = "StreamCreationError";
}

/** Waits for the client's streams; rejects (and closes the connection) on timeout or close. */
export function spdyRemoteCommandIO(
  conn: SpdyConnection,
  protocol: string,
  opts: RemoteCommandOptions,
  creationTimeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<RemoteCommandIO> {
  const expected = expectedStreamCount(protocol, opts);
  const streams = new Map<string, SpdyStream>();
  const closed = new Promise<void>((resolve) => (conn.isClosed ? resolve() : conn.once("close", () => resolve())));
  return new Promise((resolve, reject) => {
    const stop = (err?: Error) => {
      clearTimeout(timer);
      conn.off("stream", onStream);
      if (err) {
        reject(err);
        void conn.close();
      }
    };
    const timer = setTimeout(() => stop(new StreamCreationError("timed out waiting for client to create streams")), creationTimeoutMs);
    timer.unref();
    void closed.then(() => stop(new StreamCreationError("connection closed before the client created its streams")));
    const onStream = (stream: SpdyStream) => {
      stream.on("error", () => {}); // a reset shows as 'close'; nothing to report
      const type = headerValue(stream.headers, STREAM_TYPE_HEADER) ?? "";
      if (!KNOWN_TYPES.includes(type) || streams.has(type)) {
        stream.reset();
        return;
      }
      stream.accept();
      streams.set(type, stream);
      if (streams.size < expected) return;
      stop();
      resolve(remoteCommandIO(conn, protocol, streams, closed));
    };
    conn.on("stream", onStream);
  });
}

function remoteCommandIO(conn: SpdyConnection, protocol: string, streams: Map<string, SpdyStream>, closed: Promise<void>): RemoteCommandIO {
  const error = streams.get(StreamType.Error);
  const stdin = streams.get(StreamType.Stdin);
  const stdout = streams.get(StreamType.Stdout);
  const stderr = streams.get(StreamType.Stderr);
  // A v1 client expects the server to close stdin's write half at once; later ones wait for
  // it as the sign that the session is over (see finish).
  if (protocol === StreamProtocol.V1 || protocol === "") stdin?.end();
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  let finishing: Promise<void> | undefined;
  return {
    protocol,
    stdin: stdin as Readable | undefined,
    stdout: stdout as Writable | undefined,
    stderr: stderr as Writable | undefined,
    resize: streams.get(StreamType.Resize),
    closed,
    isClosed: () => isClosed,
    finish(status: Status) {
      finishing ??= (async () => {
        await Promise.race([Promise.all([ended(stdout), ended(stderr)]), closed]);
        if (error) {
          const payload = errorStreamPayload(protocol, status);
          if (payload.length > 0) error.write(payload);
          await Promise.race([ended(error), closed]);
        }
        // client-go reads remote stdin until the server closes it (v2+).
        stdin?.end();
        await conn.close();
      })();
      return finishing;
    },
  };
}
