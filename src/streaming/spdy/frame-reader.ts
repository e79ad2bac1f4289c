// Incremental SPDY frame parser: bytes arrive in whatever chunks the transport delivers
// (one byte at a time is fine), frames come out whole. Lengths are bounded so a peer cannot
// make us buffer more than one maximum-size frame; any malformed input poisons the reader
// and surfaces as a SpdyProtocolError that the connection turns into GOAWAY + close.
import { SpdyProtocolError } from "./errors.js";
import { decodeControlFrame, FRAME_HEADER_LENGTH, MAX_FRAME_LENGTH, SPDY_VERSION, type Frame } from "./frames.js";

export interface FrameReaderOptions {
  /** Largest DATA payload accepted (default: the protocol maximum, 16 MiB - 1). */
  maxDataLength?: number;
  /** Largest control frame payload accepted; bounds compressed header blocks (default 1 MiB). */
  maxControlLength?: number;
}

export const DEFAULT_MAX_CONTROL_LENGTH = 1024 * 1024;

interface PendingHeader {
  control: boolean;
  /** Control: frame type. Data: stream id. */
  typeOrStreamId: number;
  flags: number;
  length: number;
}

export class FrameReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private header: PendingHeader | undefined;
  private failure: SpdyProtocolError | undefined;
  private readonly maxDataLength: number;
  private readonly maxControlLength: number;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    options: FrameReaderOptions = {},
  ) {
    this.maxDataLength = Math.min(options.maxDataLength ?? MAX_FRAME_LENGTH, MAX_FRAME_LENGTH);
    this.maxControlLength = Math.min(options.maxControlLength ?? DEFAULT_MAX_CONTROL_LENGTH, MAX_FRAME_LENGTH);
  }

  /** Bytes received but not yet part of a delivered frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds bytes; calls onFrame for every frame completed by them, in order. Throws
   * SpdyProtocolError at the first malformed frame (frames before it were delivered) and on
   * every later call.
   */
  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    try {
      for (;;) {
        if (!this.header) {
          if (this.buffered < FRAME_HEADER_LENGTH) return;
          this.header = this.parseHeader(this.take(FRAME_HEADER_LENGTH));
        }
        if (this.buffered < this.header.length) return;
        const header = this.header;
        this.header = undefined;
        const payload = this.take(header.length);
        const frame = header.control
          ? decodeControlFrame(header.typeOrStreamId, header.flags, payload)
          : ({ type: "DATA", streamId: header.typeOrStreamId, flags: header.flags, data: payload } as const);
        if (frame) this.onFrame(frame);
      }
    } catch (err) {
      if (err instanceof SpdyProtocolError) this.failure = err;
      throw err;
    }
  }

  private parseHeader(bytes: Buffer): PendingHeader {
    const first = bytes.readUInt32BE(0);
    const second = bytes.readUInt32BE(4);
    const flags = second >>> 24;
    const length = second & MAX_FRAME_LENGTH;
    if (first & 0x80000000) {
      const version = (first >>> 16) & 0x7fff;
      if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
      if (length > this.maxControlLength) {
        throw new SpdyProtocolError(`control frame of ${length} bytes exceeds the limit of ${this.maxControlLength}`);
      }
      return { control: true, typeOrStreamId: first & 0xffff, flags, length };
    }
    const streamId = first & 0x7fffffff;
    if (streamId === 0) throw new SpdyProtocolError("DATA frame for stream id 0");
    if (length > this.maxDataLength) {
      throw new SpdyProtocolError(`DATA frame of ${length} bytes exceeds the limit of ${this.maxDataLength}`);
    }
    return { control: false, typeOrStreamId: streamId, flags, length };
  }

  /** Removes n buffered bytes; copies only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
