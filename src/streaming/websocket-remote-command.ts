// Exec/attach over WebSocket (kubelet's createWebSocketStreams; v5 as client-go's WebSocket
// executor, which crictl --transport websocket uses): channels instead of streams, the
// status on the error channel, and a normal closure (1000) as the end, which client-go
// reads as EOF on every stream. The idle timeout counts messages in both directions, as
// wsstream's read/write deadlines do.
import { Writable } from "node:stream";
import type { WebSocket } from "ws";
import { openRemoteCommandChannels } from "./websocket/remote-command.js";
import type { Status } from "./remotecommand/status.js";
import { ended, type RemoteCommandIO, type RemoteCommandOptions } from "./remote-command-io.js";
import { IdleTimer } from "./idle-timer.js";

/** Forwards writes one at a time (keeping the target's backpressure) and reports each. */
export function touchingWritable(target: Writable, touch: () => void): Writable {
  target.on("error", () => {}); // the connection's 'close' is what the session watches
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      touch();
      if (target.destroyed || target.writableEnded) return callback();
      target.write(chunk, () => callback());
    },
    final(callback) {
      target.end(() => callback());
    },
    destroy(err, callback) {
      target.destroy();
      callback(err);
    },
  });
}

export function websocketRemoteCommandIO(ws: WebSocket, protocol: string, opts: RemoteCommandOptions, idleTimeoutMs: number): RemoteCommandIO {
  const rc = openRemoteCommandChannels(ws, protocol, opts);
  const idle = new IdleTimer(idleTimeoutMs, () => rc.close());
  ws.on("message", () => idle.touch());
  const closed = rc.channels.whenClosed().then(() => idle.stop());
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  const stdout = rc.stdout && touchingWritable(rc.stdout, () => idle.touch());
  const stderr = rc.stderr && touchingWritable(rc.stderr, () => idle.touch());
  let finishing: Promise<void> | undefined;
  return {
    protocol,
    stdin: rc.stdin,
    stdout,
    stderr,
    resize: rc.resize,
    closed,
    isClosed: () => isClosed,
    finish(status: Status) {
      finishing ??= (async () => {
        await Promise.race([Promise.all([ended(stdout), ended(stderr)]), closed]);
        if (!isClosed) await rc.writeStatus(status);
        rc.close();
      })();
      return finishing;
    },
  };
}
