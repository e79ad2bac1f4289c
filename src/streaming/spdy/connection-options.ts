// Knobs of a SPDY session and their defaults (spdystream's where it has one).
import { DEFAULT_INITIAL_WINDOW_SIZE, MAX_FRAME_LENGTH } from "./frames.js";
import type { FlowControlMode } from "./data-sender.js";
import { DEFAULT_MAX_CONTROL_LENGTH } from "./frame-reader.js";
import { DEFAULT_MAX_HEADER_BLOCK_SIZE } from "./header-compression.js";

export interface SpdyConnectionOptions {
  role: "server" | "client";
  /** Honour the peer's send windows: always, never, or once it shows it keeps them. */
  flowControl?: FlowControlMode;
  /** Window we grant the peer per stream and for the session (announced in SETTINGS). */
  receiveWindow?: number;
  /** Announce receiveWindow in a SETTINGS frame when the session starts. */
  announceSettings?: boolean;
  /** Unread bytes per stream beyond which the transport is paused. */
  maxBufferedBytesPerStream?: number;
  /** Largest DATA payload we send in one frame. */
  maxSendFrameSize?: number;
  /** Streams the peer may have open at once; more are refused. */
  maxConcurrentStreams?: number;
  /** Cap on a decompressed header block. */
  maxHeaderBlockSize?: number;
  maxControlFrameLength?: number;
  maxDataFrameLength?: number;
  /** Close the session after this long without a frame in either direction (0: never). */
  idleTimeoutMs?: number;
  /** How long close() waits for queued data, and then for the transport to close. */
  closeTimeoutMs?: number;
}

export function withDefaults(options: SpdyConnectionOptions): Required<SpdyConnectionOptions> {
  return {
    flowControl: "auto",
    receiveWindow: DEFAULT_INITIAL_WINDOW_SIZE,
    announceSettings: true,
    maxBufferedBytesPerStream: 256 * 1024,
    maxSendFrameSize: 32 * 1024,
    maxConcurrentStreams: 1000,
    maxHeaderBlockSize: DEFAULT_MAX_HEADER_BLOCK_SIZE,
    maxControlFrameLength: DEFAULT_MAX_CONTROL_LENGTH,
    maxDataFrameLength: MAX_FRAME_LENGTH,
    idleTimeoutMs: 0,
    closeTimeoutMs: 2000,
    ...options,
  };
}
