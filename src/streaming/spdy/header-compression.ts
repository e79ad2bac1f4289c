// SPDY/3 header blocks: the name/value block format and its zlib compression.
//
// SPDY keeps ONE zlib stream per direction for the whole connection, primed with the SPDY/3
// dictionary, and ends every header block with a sync flush. Node's zlib only offers
// stateless synchronous calls or asynchronous streams, so the context is carried explicitly:
// after a sync flush a deflate stream sits on a byte boundary and the only state that
// carries over is the 32 KiB window of previous plaintext. Each block is therefore
// (de)compressed as raw deflate with that window as preset dictionary, which produces and
// accepts exactly the bytes a stateful zlib stream would (checked against a stateful inflater
// in the unit tests). The first block carries the zlib header and the dictionary's DICTID.
import zlib from "node:zlib";
import { SpdyProtocolError } from "./errors.js";
import { SPDY3_DICTIONARY, SPDY3_DICTIONARY_ID } from "./dictionary.js";

/** Header names are lower case on the wire; a name carries one or more values. */
export type SpdyHeaders = Map<string, string[]>;
export type HeaderInit =
  | SpdyHeaders
  | Record<string, string | readonly string[]>
  | Iterable<readonly [string, string | readonly string[]]>;

/** Cap on a decompressed header block: a tiny compressed block cannot balloon memory. */
export const DEFAULT_MAX_HEADER_BLOCK_SIZE = 1024 * 1024;

const WINDOW_SIZE = 32 * 1024;
const SYNC_FLUSH_MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** zlib header of a level-9 stream with a preset dictionary, as Go's zlib writes it. */
const ZLIB_HEADER = Buffer.from([0x78, 0xf9]);

export function toSpdyHeaders(init: HeaderInit = {}): SpdyHeaders {
  const headers: SpdyHeaders = new Map();
  const entries: Iterable<readonly [string, string | readonly string[]]> =
    init instanceof Map || Symbol.iterator in init
      ? (init as Iterable<readonly [string, string | readonly string[]]>)
      : Object.entries(init as Record<string, string | readonly string[]>);
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    if (name === "") throw new RangeError("SPDY header names must not be empty");
    const values = typeof value === "string" ? [value] : [...value];
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

/** First value of a header, looked up case-insensitively. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}

/** Uncompressed block: uint32 count, then per header uint32-length name and NUL-joined values. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [u32(headers.size)];
  for (const [name, values] of headers) {
    const nameBytes = Buffer.from(name, "utf8");
    const valueBytes = Buffer.from(values.join("\0"), "utf8");
    parts.push(u32(nameBytes.length), nameBytes, u32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let offset = 0;
  const readLength = (what: string) => {
    if (offset + 4 > block.length) throw new SpdyProtocolError(`header block truncated in ${what}`);
    const n = block.readUInt32BE(offset);
    offset += 4;
    if (offset + n > block.length) throw new SpdyProtocolError(`header block truncated in ${what}`);
    return n;
  };
  if (block.length < 4) throw new SpdyProtocolError("header block truncated in count");
  const count = block.readUInt32BE(0);
  offset = 4;
  const headers: SpdyHeaders = new Map();
  for (let i = 0; i < count; i++) {
    const nameLength = readLength("name length");
    const name = block.toString("utf8", offset, offset + nameLength);
    offset += nameLength;
    if (name === "") throw new SpdyProtocolError("header block with an empty name");
    if (name !== name.toLowerCase()) throw new SpdyProtocolError(`header name ${JSON.stringify(name)} is not lower case`);
    if (headers.has(name)) throw new SpdyProtocolError(`header ${JSON.stringify(name)} appears twice`);
    const valueLength = readLength("value length");
    headers.set(name, block.toString("utf8", offset, offset + valueLength).split("\0"));
    offset += valueLength;
  }
  if (offset !== block.length) throw new SpdyProtocolError(`${block.length - offset} stray bytes after the header block`);
  return headers;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function slideWindow(window: Buffer, plain: Buffer): Buffer {
  const joined = Buffer.concat([window, plain]);
  return joined.length > WINDOW_SIZE ? Buffer.from(joined.subarray(joined.length - WINDOW_SIZE)) : joined;
}

/** The sending direction's zlib context. Not reentrant: blocks must go out in call order. */
export class HeaderCompressor {
  private window: Buffer = SPDY3_DICTIONARY;
  private started = false;

  compress(headers: HeaderInit): Buffer {
    const plain = encodeHeaderBlock(headers instanceof Map ? headers : toSpdyHeaders(headers));
    const body = zlib.deflateRawSync(plain, {
      level: 9,
      dictionary: this.window,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    this.window = slideWindow(this.window, plain);
    if (this.started) return body;
    this.started = true;
    return Buffer.concat([ZLIB_HEADER, u32(SPDY3_DICTIONARY_ID), body]);
  }
}

/** The receiving direction's zlib context. A failure leaves it unusable: close the session. */
export class HeaderDecompressor {
  private window: Buffer = Buffer.alloc(0);
  private started = false;
  private broken = false;
  private readonly maxBlockSize: number;

  constructor(options: { maxHeaderBlockSize?: number } = {}) {
    this.maxBlockSize = options.maxHeaderBlockSize ?? DEFAULT_MAX_HEADER_BLOCK_SIZE;
  }

  decompress(compressed: Buffer): SpdyHeaders {
    if (this.broken) throw new SpdyProtocolError("header compression context is broken");
    this.broken = true;
    let body = compressed;
    if (!this.started) body = this.readZlibHeader(compressed);
    if (body.length < SYNC_FLUSH_MARKER.length || !body.subarray(-SYNC_FLUSH_MARKER.length).equals(SYNC_FLUSH_MARKER)) {
      throw new SpdyProtocolError("header block does not end with a zlib sync flush");
    }
    let plain: Buffer;
    try {
      const result = zlib.inflateRawSync(body, {
        dictionary: this.window.length > 0 ? this.window : undefined,
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: this.maxBlockSize,
        info: true,
      }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      if (result.engine.bytesWritten !== body.length) throw new Error("data after the end of the zlib stream");
      plain = result.buffer;
    } catch (err) {
      const tooLarge = err instanceof RangeError || (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
      throw new SpdyProtocolError(
        tooLarge
          ? `header block decompresses to more than ${this.maxBlockSize} bytes`
          : `header block does not decompress: ${(err as Error).message}`,
      );
    }
    const headers = decodeHeaderBlock(plain);
    this.window = slideWindow(this.window, plain);
    this.broken = false;
    return headers;
  }

  private readZlibHeader(compressed: Buffer): Buffer {
    if (compressed.length < 2) throw new SpdyProtocolError("header block too short for a zlib header");
    const cmf = compressed[0]!;
    const flg = compressed[1]!;
    if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0) {
      throw new SpdyProtocolError("header block does not start with a zlib header");
    }
    this.started = true;
    if (!(flg & 0x20)) return compressed.subarray(2);
    if (compressed.length < 6 || compressed.readUInt32BE(2) !== SPDY3_DICTIONARY_ID) {
      throw new SpdyProtocolError("header block compressed with a dictionary other than SPDY/3's");
    }
    this.window = SPDY3_DICTIONARY;
    return compressed.subarray(6);
  }
}
