// A protobuf wire writer into one growing buffer, for replies encoded by hand on hot paths
// (ListContainerStats). protobuf-es's BinaryWriter allocates a chunk list and a new array
// per nested message; here a nested message reserves one length byte and is moved only in
// the rare case its length needs more (>= 128 bytes).

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

export class WireOut {
  private buf: Buffer;
  private pos = 0;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned varint of a non-negative number below 2^53, or any bigint (two's complement 64-bit, as int64/uint64 are written). */
  varint(v: number | bigint): this {
    this.ensure(10);
    if (typeof v === "bigint") {
      if (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return this.varint(Number(v));
      let u = BigInt.asUintN(64, v);
      while (u >= 0x80n) {
        this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
        u >>= 7n;
      }
      this.buf[this.pos++] = Number(u);
      return this;
    }
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  tag(no: number, wireType: number): this {
    return this.varint((no << 3) | wireType);
  }

  /** An int64 / uint64 field, left out when 0 (proto3 implicit presence). */
  int64(no: number, v: bigint | undefined): this {
    if (v !== undefined && v !== 0n) this.tag(no, WIRE_VARINT).varint(v);
    return this;
  }

  /** A string field, left out when empty. */
  string(no: number, v: string | undefined): this {
    if (!v) return this;
    const len = Buffer.byteLength(v);
    this.tag(no, WIRE_LEN).varint(len);
    this.ensure(len);
    this.pos += this.buf.write(v, this.pos, "utf8");
    return this;
  }

  /** A bytes or message field already encoded. */
  bytes(no: number, v: Uint8Array): this {
    this.tag(no, WIRE_LEN).varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  /** Bytes already in wire form (whole fields), as they are. */
  raw(v: Uint8Array): this {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  /** A message field written by `write` (always written, even when empty, as a set message field is). */
  message(no: number, write: () => void): this {
    this.tag(no, WIRE_LEN);
    this.ensure(1);
    const start = ++this.pos;
    write();
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return this;
    }
    let extra = 0;
    for (let l = len >> 7; l > 0; l >>= 7) extra++;
    this.ensure(extra);
    this.buf.copy(this.buf, start + extra, start, this.pos);
    let p = start - 1;
    let l = len;
    for (; l >= 0x80; l >>>= 7) this.buf[p++] = (l & 0x7f) | 0x80;
    this.buf[p] = l;
    this.pos = start + extra + len;
    return this;
  }

  /** The bytes written so far (a view of the buffer, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
