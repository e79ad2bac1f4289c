// The CRI container log format the kubelet reads (kubectl logs, log rotation):
//   <RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n
// one record per line of container output; a line longer than the maximum is cut into
// P (partial) records and ends with an F (full) record. The splitting mirrors
// containerd's redirectLogs (internal/cri/io/logger.go):
//   - "\n" ends a line; a "\r" right before it is dropped with it, any other "\r" is content;
//   - an empty line is an F record with empty content;
//   - with a limit > 0, P records carry exactly `maxLineSize` bytes, cut at byte
//     boundaries (the kubelet joins the bytes back); a limit <= 0 never splits;
//   - output that ends without "\n" (the stream closed mid-line) is written as P.
// Content is bytes, never decoded: a cut may fall inside a UTF-8 sequence.

export type LogStream = "stdout" | "stderr";
export const LOG_TAG_PARTIAL = "P";
export const LOG_TAG_FULL = "F";

/** containerd's default max_container_log_line_size. */
export const DEFAULT_MAX_LOG_LINE_SIZE = 16 * 1024;

const NL = 0x0a;
const CR = 0x0d;

/** Minutes east of UTC of the local time zone at an instant (what Go's time.Now() carries). */
export function localUtcOffsetMinutes(epochNs: bigint): number {
  const offset = -new Date(Number(epochNs / 1_000_000n)).getTimezoneOffset();
  return offset === 0 ? 0 : offset; // never -0
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * Go's time.RFC3339Nano ("2006-01-02T15:04:05.999999999Z07:00"): up to nine fraction
 * digits with trailing zeros trimmed (no dot when the fraction is zero), "Z" for UTC,
 * else "+hh:mm" / "-hh:mm".
 */
export function formatRFC3339Nano(epochNs: bigint, utcOffsetMinutes = 0): string {
  let seconds = epochNs / 1_000_000_000n;
  let nanos = epochNs % 1_000_000_000n;
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    seconds -= 1n;
  }
  const local = new Date((Number(seconds) + utcOffsetMinutes * 60) * 1000);
  let out =
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  if (nanos !== 0n) out += "." + nanos.toString().padStart(9, "0").replace(/0+$/, "");
  if (utcOffsetMinutes === 0) return out + "Z";
  const abs = Math.abs(utcOffsetMinutes);
  return out + `${utcOffsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * A wall clock in epoch nanoseconds. Date.now() only has milliseconds, so the sub-ms
 * part comes from the monotonic hrtime since the last anchor; the clock re-anchors when
 * it leaves the current wall-clock millisecond (clock steps, drift), so it never strays
 * from Date.now() by a millisecond or more.
 */
export function wallClockNs(now: () => number = Date.now, hrtime: () => bigint = process.hrtime.bigint): () => bigint {
  let anchorWall = BigInt(now()) * 1_000_000n;
  let anchorHr = hrtime();
  return () => {
    const wall = BigInt(now()) * 1_000_000n;
    const candidate = anchorWall + (hrtime() - anchorHr);
    if (candidate >= wall && candidate < wall + 1_000_000n) return candidate;
    anchorWall = wall;
    anchorHr = hrtime();
    return wall;
  };
}

export interface CriLogSplitterOptions {
  stream: LogStream;
  /** max_container_log_line_size; <= 0 means unlimited. */
  maxLineSize: number;
  /** Epoch nanoseconds, read once per record (see wallClockNs). */
  clock: () => bigint;
  /** The zone the timestamps are written in; default: the local zone, as containerd. */
  utcOffsetMinutes?: (epochNs: bigint) => number;
}

/**
 * Turns a container's output stream, in chunks of any size, into CRI log records. Holds
 * an unterminated line until its end, the stream's end, or until it exceeds the maximum.
 */
export class CriLogSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private readonly prefix: string;

  constructor(private readonly opts: CriLogSplitterOptions) {
    this.prefix = ` ${opts.stream} `;
  }

  /** The records completed by this chunk. */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl >= 0; nl = buf.indexOf(NL, start)) {
      let line = this.takePending(buf.subarray(start, nl));
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      line = this.emitOverflow(line, 0, out);
      out.push(this.record(LOG_TAG_FULL, line));
      start = nl + 1;
    }
    if (start < buf.length) {
      // Copied: the caller may reuse its read buffer.
      this.pending.push(Buffer.from(buf.subarray(start)));
      this.pendingLength += buf.length - start;
      this.splitPending(out);
    }
    return out;
  }

  /** The stream closed: what is left is a partial line. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    if (this.pendingLength === 0) return out;
    const rest = this.emitOverflow(this.takePending(Buffer.alloc(0)), 0, out);
    if (rest.length > 0) out.push(this.record(LOG_TAG_PARTIAL, rest));
    return out;
  }

  private takePending(tail: Buffer): Buffer {
    const line = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingLength = 0;
    return line;
  }

  /**
   * Emits P records while more than the maximum remains, ignoring `reserve` trailing
   * bytes; returns the rest.
   */
  private emitOverflow(line: Buffer, reserve: number, out: Buffer[]): Buffer {
    const max = this.opts.maxLineSize;
    if (max <= 0) return line;
    let rest = line;
    while (rest.length - reserve > max) {
      out.push(this.record(LOG_TAG_PARTIAL, rest.subarray(0, max)));
      rest = rest.subarray(max);
    }
    return rest;
  }

  /**
   * Cuts an unterminated line that outgrew the maximum. A trailing "\r" is not counted:
   * it may be the first half of a "\r\n" that ends the line.
   */
  private splitPending(out: Buffer[]): void {
    if (this.opts.maxLineSize <= 0) return;
    const last = this.pending[this.pending.length - 1]!;
    const reserve = last[last.length - 1] === CR ? 1 : 0;
    if (this.pendingLength - reserve <= this.opts.maxLineSize) return;
    const rest = this.emitOverflow(this.takePending(Buffer.alloc(0)), reserve, out);
    this.pending = [Buffer.from(rest)];
    this.pendingLength = rest.length;
  }

  private record(tag: string, content: Buffer): Buffer {
    const ns = this.opts.clock();
    const offset = (this.opts.utcOffsetMinutes ?? localUtcOffsetMinutes)(ns);
    const head = Buffer.from(formatRFC3339Nano(ns, offset) + this.prefix + tag + " ");
    return Buffer.concat([head, content, Buffer.from([NL])]);
  }
}

export interface CriLogRecord {
  timestamp: string;
  stream: LogStream;
  tag: "P" | "F";
  content: Buffer;
}

/** Parses one record (without or with its trailing "\n"), as the kubelet's log reader does. */
export function parseCriLogLine(line: Uint8Array): CriLogRecord {
  const buf = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  const end = buf[buf.length - 1] === NL ? buf.length - 1 : buf.length;
  const s1 = buf.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : buf.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : buf.indexOf(0x20, s2 + 1);
  if (s3 < 0 || s3 > end) throw new Error("malformed CRI log line: missing fields");
  const stream = buf.toString("latin1", s1 + 1, s2);
  const tag = buf.toString("latin1", s2 + 1, s3);
  if (stream !== "stdout" && stream !== "stderr") throw new Error(`malformed CRI log line: stream ${JSON.stringify(stream)}`);
  if (tag !== LOG_TAG_PARTIAL && tag !== LOG_TAG_FULL) throw new Error(`malformed CRI log line: tag ${JSON.stringify(tag)}`);
  return { timestamp: buf.toString("latin1", 0, s1), stream, tag, content: Buffer.from(buf.subarray(s3 + 1, end)) };
}
