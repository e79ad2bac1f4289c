// The client's side of an exec or attach as the sessions see it, whatever carries it (SPDY
// streams or WebSocket channels): the streams the client asked for, the final status, and
// the news that the client went away. The adapters live in spdy-remote-command.ts and
// websocket-remote-command.ts.
import type { Readable, Writable } from "node:stream";
import type { Status } from "./remotecommand/status.js";

/** What the client asked for (the CRI request's flags). */
export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface RemoteCommandIO {
  readonly protocol: string;
  readonly stdin: Readable | undefined;
  readonly stdout: Writable | undefined;
  readonly stderr: Writable | undefined;
  /** Terminal size events (JSON), for tty sessions on protocols that have them. */
  readonly resize: Readable | undefined;
  /** Resolves once the client's connection is gone, for whatever reason. */
  readonly closed: Promise<void>;
  /** True once `closed` has resolved. */
  isClosed(): boolean;
  /**
   * The normal end, in kubelet's order: output streams ended (after what was written to
   * them), the status on the error stream, then the connection closed.
   */
  finish(status: Status): Promise<void>;
}

/** Resolves once a writable has flushed everything and ended, or can no longer. */
export function ended(w: Writable | undefined): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      w.off("finish", done);
      w.off("close", done);
      w.off("error", done);
      resolve();
    };
    w.on("finish", done);
    w.on("close", done);
    w.on("error", done);
    if (!w.writableEnded) w.end();
  });
}
