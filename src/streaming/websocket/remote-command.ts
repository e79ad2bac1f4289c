// Exec/attach over WebSocket, opened the way kubelet's createWebSocketStreams does: five
// channels (stdin 0 and resize 4 readable, stdout 1 / stderr 2 writable when asked for,
// error 3 always writable), then an empty message on the lowest writable channel to tell the
// client the session is up. The error channel carries the exit Status (JSON for v4/v5).
import type { Readable, Writable } from "node:stream";
import type { WebSocket } from "ws";
import { Channel, channelProtocolConfig } from "./channel.js";
import { WebSocketChannels } from "./channel-connection.js";
import { encodeStatus, type Status } from "../remotecommand/status.js";

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface RemoteCommandChannels {
  protocol: string;
  stdin: Readable | undefined;
  stdout: Writable | undefined;
  stderr: Writable | undefined;
  /** Resize events (JSON), for tty sessions. */
  resize: Readable | undefined;
  channels: WebSocketChannels;
  /** Writes the final status on the error channel in the protocol's format. */
  writeStatus(status: Status): Promise<void>;
  /** Normal closure, after which client-go sees EOF on every stream. */
  close(): void;
}

export function openRemoteCommandChannels(ws: WebSocket, protocol: string, opts: RemoteCommandOptions): RemoteCommandChannels {
  // kubelet drops stderr for tty sessions (the pty merges it into stdout).
  const stderr = opts.stderr && !opts.tty;
  const channels = new WebSocketChannels(ws, {
    protocol,
    channels: [
      { readable: opts.stdin, writable: false },
      { readable: false, writable: opts.stdout },
      { readable: false, writable: stderr },
      { readable: false, writable: true },
      { readable: true, writable: false },
    ],
  });
  const lowestWritable = opts.stdout ? Channel.Stdout : stderr ? Channel.Stderr : Channel.Error;
  channels.channel(lowestWritable).write(Buffer.alloc(0));
  const config = channelProtocolConfig(protocol);
  const error = channels.channel(Channel.Error);
  return {
    protocol,
    stdin: opts.stdin ? channels.channel(Channel.Stdin) : undefined,
    stdout: opts.stdout ? channels.channel(Channel.Stdout) : undefined,
    stderr: stderr ? channels.channel(Channel.Stderr) : undefined,
    resize: opts.tty ? channels.channel(Channel.Resize) : undefined,
    channels,
    writeStatus: (status) => {
      const text = config.statusErrorChannel ? encodeStatus(status) : status.status === "Success" ? "" : (status.message ?? "");
      if (text === "") return Promise.resolve();
      return new Promise((resolve) => error.write(text, () => resolve()));
    },
    close: () => channels.close(),
  };
}
