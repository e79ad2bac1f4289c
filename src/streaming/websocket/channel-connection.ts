// Channels multiplexed on one WebSocket, each a Node Duplex: messages for channel n feed its
// readable side, writes to it go out prefixed with n. A channel that is not readable reads
// as EOF and one that is not writable swallows writes, as kubelet's wsstream channels do.
// Works for both ends: the server (exec/attach/port-forward) and crib's test client, which
// half-closes its channels with the v5 close signal.
//
// Backpressure: a channel holding too many unread bytes pauses the WebSocket (kubelet's
// io.Pipe blocks its read loop the same way); writes complete once ws has flushed enough.
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import {
  ChannelProtocolError,
  channelProtocolConfig,
  decodeChannelMessage,
  encodeChannelMessage,
  encodeCloseSignal,
  type ChannelProtocolConfig,
} from "./channel.js";

export interface ChannelSpec {
  readable: boolean;
  writable: boolean;
}

export interface WebSocketChannelsOptions {
  /** Negotiated subprotocol: decides binary/base64 and the v5 close signal. */
  protocol: string;
  channels: ChannelSpec[];
  /** Client side of v5: end() on a channel sends [255, n]. */
  sendCloseSignalOnEnd?: boolean;
  /** Unread bytes in one channel beyond which the WebSocket is paused. */
  maxBufferedBytes?: number;
  /** Unsent bytes beyond which writes wait for the socket. */
  maxPendingSendBytes?: number;
  /** Largest payload per message; bigger writes are split. */
  maxMessageBytes?: number;
}

export class ChannelStream extends Duplex {
  constructor(
    readonly channel: number,
    readonly spec: ChannelSpec,
    private readonly owner: WebSocketChannels,
  ) {
    super({ allowHalfOpen: true, autoDestroy: true });
    if (!spec.readable) this.push(null);
  }

  override _read(): void {
    this.owner.channelRead(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.spec.writable) return callback();
    // One message per piece, each sent once the previous one is flushed: a large write
    // neither becomes one huge message nor bypasses backpressure.
    const max = this.owner.maxMessageBytes;
    const sendFrom = (offset: number): void => {
      const piece = chunk.subarray(offset, offset + max);
      const next = offset + piece.length;
      this.owner.send(encodeChannelMessage(this.channel, piece, this.owner.config.codec), () =>
        next < chunk.length ? sendFrom(next) : callback(),
      );
    };
    sendFrom(0);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.owner.sendCloseSignalOnEnd && this.spec.writable) this.owner.send(encodeCloseSignal(this.channel), callback);
    else callback();
  }
}

export class WebSocketChannels extends EventEmitter {
  readonly config: ChannelProtocolConfig;
  readonly channels: ChannelStream[];
  readonly sendCloseSignalOnEnd: boolean;
  readonly maxMessageBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly maxPendingSendBytes: number;
  private readonly overfull = new Set<ChannelStream>();
  private closed = false;
  /** WebSocket close code, once closed. */
  closeCode: number | undefined;

  constructor(
    readonly ws: WebSocket,
    options: WebSocketChannelsOptions,
  ) {
    super();
    this.config = channelProtocolConfig(options.protocol);
    this.sendCloseSignalOnEnd = options.sendCloseSignalOnEnd ?? false;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 256 * 1024;
    this.maxPendingSendBytes = options.maxPendingSendBytes ?? 1024 * 1024;
    this.maxMessageBytes = options.maxMessageBytes ?? 32 * 1024;
    this.channels = options.channels.map((spec, i) => new ChannelStream(i, spec, this));
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => this.onMessage(toBuffer(data)));
    ws.on("close", (code: number) => this.onClose(code));
    ws.on("error", () => {}); // 'close' follows every error
  }

  /** Resolves with the close code once the WebSocket has closed (at once if it has). */
  whenClosed(): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve) => this.once("close", resolve));
  }

  channel(n: number): ChannelStream {
    const c = this.channels[n];
    if (!c) throw new RangeError(`no channel ${n}`);
    return c;
  }

  /** Normal closure (1000): client-go then reads EOF on every stream. */
  close(code = 1000, reason = ""): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  send(message: Buffer | string, callback: (error?: Error | null) => void): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return callback();
    let called = false;
    const done = () => {
      if (!called) {
        called = true;
        callback();
      }
    };
    this.ws.send(message, { binary: typeof message !== "string" }, done);
    if (this.ws.bufferedAmount < this.maxPendingSendBytes) done();
  }

  channelRead(channel: ChannelStream): void {
    if (this.overfull.delete(channel) && this.overfull.size === 0 && !this.closed) this.ws.resume();
  }

  private onMessage(message: Buffer): void {
    let decoded;
    try {
      // Text or binary frame alike: Go's websocket.Message.Receive hands kubelet the bytes.
      decoded = decodeChannelMessage(message, this.config);
    } catch (err) {
      if (err instanceof ChannelProtocolError && !err.fatal) return;
      this.emit("protocolError", err);
      this.close(1002, "protocol error");
      return;
    }
    if (!decoded) return;
    const channel = this.channels[decoded.channel];
    if (!channel) {
      if (decoded.kind === "close") this.close(1002, "close signal for an unknown channel");
      return; // kubelet ignores data for channels it does not have
    }
    if (!channel.spec.readable || channel.readableEnded) return;
    if (decoded.kind === "close") {
      channel.push(null);
      return;
    }
    if (decoded.data.length === 0) return;
    channel.push(decoded.data);
    if (channel.readableLength > this.maxBufferedBytes) {
      this.overfull.add(channel);
      this.ws.pause();
    }
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    for (const channel of this.channels) {
      // Readers get EOF after what is already buffered (as io.Pipe readers do in kubelet).
      if (channel.spec.readable) {
        if (!channel.readableEnded && !channel.destroyed) channel.push(null);
      } else if (channel.spec.writable && !channel.writableFinished) {
        // Write-only channels have nothing left to give: let writers (pipelines) see them go.
        channel.destroy();
      }
      // Writes still arriving on read/write channels are swallowed; owners watch 'close'.
    }
    this.emit("close", code);
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
