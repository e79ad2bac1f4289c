// The CRI log format the kubelet reads back (`kubectl logs`):
//   <RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n
// A line longer than max_container_log_line_size is cut into P(artial) records and ends
// with an F(ull) one; output that ends without a newline is written as P. A "\r\n" line
// end loses its "\r", as in containerd's redirectLogs.

export type LogStream = "stdout" | "stderr";
export type LogTag = "P" | "F";

export interface LogRecord {
  tag: LogTag;
  content: Buffer;
}

const NL = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/** Splits a byte stream into CRI log records; keeps the unfinished line between chunks. */
export class CriLineSplitter {
  private pending: Buffer = EMPTY;

  /** maxLen <= 0: no limit. */
  constructor(private readonly maxLen: number) {}

  push(chunk: Buffer): LogRecord[] {
    const out: LogRecord[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NL, pos);
      this.append(chunk.subarray(pos, nl === -1 ? chunk.length : nl), out);
      if (nl === -1) break;
      let line = this.pending;
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      this.pending = EMPTY;
      this.emit(line, "F", out);
      pos = nl + 1;
    }
    return out;
  }

  /** End of stream: what is left had no newline and is written as a partial record. */
  end(): LogRecord[] {
    const out: LogRecord[] = [];
    if (this.pending.length > 0) this.emit(this.pending, "P", out);
    this.pending = EMPTY;
    return out;
  }

  private append(segment: Buffer, out: LogRecord[]): void {
    if (segment.length === 0) return;
    // Copy: the reader's chunk must not stay pinned by a long unfinished line.
    this.pending = this.pending.length === 0 ? Buffer.from(segment) : Buffer.concat([this.pending, segment]);
    if (this.maxLen <= 0) return;
    // A trailing "\r" may be half of "\r\n", which does not count against the limit.
    const counted = () => this.pending.length - (this.pending[this.pending.length - 1] === CR ? 1 : 0);
    while (counted() > this.maxLen) {
      out.push({ tag: "P", content: this.pending.subarray(0, this.maxLen) });
      this.pending = this.pending.subarray(this.maxLen);
    }
  }

  private emit(line: Buffer, lastTag: LogTag, out: LogRecord[]): void {
    if (this.maxLen > 0) {
      while (line.length > this.maxLen) {
        out.push({ tag: "P", content: line.subarray(0, this.maxLen) });
        line = line.subarray(this.maxLen);
      }
    }
    out.push({ tag: lastTag, content: line });
  }
}

/** Go's time.RFC3339Nano of a UTC instant: fraction without trailing zeros, none if zero. */
export function rfc3339Nano(epochNs: bigint): string {
  const base = new Date(Number(epochNs / 1_000_000n)).toISOString().slice(0, 19);
  const frac = (((epochNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${base}${frac ? "." + frac : ""}Z`;
}

/** The records of one chunk as the bytes appended to the log file (one write per chunk). */
export function formatLogRecords(records: readonly LogRecord[], stream: LogStream, timestamp: string): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    parts.push(Buffer.from(`${timestamp} ${stream} ${r.tag} `), r.content, Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/**
 * Wall-clock nanoseconds: Date.now() has millisecond resolution only, so the sub-millisecond
 * part comes from the monotonic clock, re-anchored every few seconds against wall time.
 */
export function createNanoClock(): () => bigint {
  let wall = 0n;
  let mono = 0n;
  const anchor = () => {
    wall = BigInt(Date.now()) * 1_000_000n;
    mono = process.hrtime.bigint();
  };
  anchor();
  return () => {
    const now = process.hrtime.bigint();
    if (now - mono > 5_000_000_000n) {
      anchor();
      return wall;
    }
    return wall + (now - mono);
  };
}
