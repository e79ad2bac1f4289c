import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { SPDY3_DICTIONARY, SPDY3_DICTIONARY_ID, adler32 } from "../../src/streaming/spdy/dictionary.js";
import {
  HeaderCompressor,
  HeaderDecompressor,
  decodeHeaderBlock,
  encodeHeaderBlock,
  headerValue,
  toSpdyHeaders,
} from "../../src/streaming/spdy/header-compression.js";
import { SpdyProtocolError } from "../../src/streaming/spdy/errors.js";

const hex = (s: string) => Buffer.from(s.replace(/[\s|]/g, ""), "hex");

test("the SPDY/3 dictionary is the spec's 1423 bytes (DICTID e3c6a7c2)", () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(SPDY3_DICTIONARY_ID, 0xe3c6a7c2);
  assert.deepEqual(SPDY3_DICTIONARY.subarray(0, 16), hex("00000007 6f7074696f6e73 00000004 68"));
  assert.equal(SPDY3_DICTIONARY.subarray(-16).toString("latin1"), "-8859-1,utf-,*,enq=0.".slice(-16));
  assert.equal(adler32(Buffer.from("Wikipedia")), 0x11e60398); // RFC 1950 example value
});

test("uncompressed header block layout", () => {
  const block = encodeHeaderBlock(toSpdyHeaders({ streamType: "error", port: ["80", "81"] }));
  assert.deepEqual(
    block,
    hex(
      "00000002" +
        "0000000a" + Buffer.from("streamtype").toString("hex") + "00000005" + Buffer.from("error").toString("hex") +
        "00000004" + Buffer.from("port").toString("hex") + "00000005" + Buffer.from("80\u000081").toString("hex"),
    ),
  );
  const decoded = decodeHeaderBlock(block);
  assert.deepEqual([...decoded], [["streamtype", ["error"]], ["port", ["80", "81"]]]);
  assert.equal(headerValue(decoded, "streamType"), "error");
});

test("empty header block (SYN_REPLY as apimachinery sends it)", () => {
  assert.deepEqual(encodeHeaderBlock(new Map()), hex("00000000"));
  assert.equal(decodeHeaderBlock(hex("00000000")).size, 0);
});

const badBlocks: Array<[string, Buffer, RegExp]> = [
  ["truncated count", hex("0000"), /truncated in count/],
  ["count larger than the entries", hex("00000002 00000001 61 00000001 62"), /truncated/],
  ["name length past the end", hex("00000001 000000ff 61"), /truncated in name length/],
  ["upper-case name", hex("00000001 00000001 41 00000000"), /not lower case/],
  ["duplicate name", hex("00000002 00000001 61 00000000 00000001 61 00000000"), /appears twice/],
  ["empty name", hex("00000001 00000000 00000000"), /empty name/],
  ["stray bytes", hex("00000000 00"), /stray bytes/],
];
for (const [name, block, message] of badBlocks) {
  test(`header block: ${name} is a protocol error`, () => {
    assert.throws(() => decodeHeaderBlock(block), (e: unknown) => e instanceof SpdyProtocolError && message.test(e.message));
  });
}

// A compressed block built by hand (stored deflate blocks, no Huffman coding), so the
// decompressor is checked against bytes zlib's own compressor did not produce:
//   78 20        zlib header: deflate, 32 KiB window, FDICT set
//   e3c6a7c2     DICTID: the SPDY/3 dictionary
//   00 1b00 e4ff stored block, not final, 27 bytes
//   ...          {"streamtype": "error"} uncompressed
//   00 0000 ffff empty stored block: the sync flush that ends every SPDY header block
const GOLDEN_FIRST_BLOCK = hex(
  "7820 e3c6a7c2 | 00 1b00 e4ff | 00000001 0000000a 73747265616d74797065 00000005 6572726f72 | 00 0000 ffff",
);

test("golden compressed block decodes to its headers", () => {
  const headers = new HeaderDecompressor().decompress(GOLDEN_FIRST_BLOCK);
  assert.deepEqual([...headers], [["streamtype", ["error"]]]);
});

test("compressed blocks start with the level-9 zlib header and SPDY DICTID, end with a sync flush", () => {
  const c = new HeaderCompressor();
  const first = c.compress({ streamtype: "stdout" });
  assert.deepEqual(first.subarray(0, 6), hex("78f9 e3c6a7c2"));
  assert.deepEqual(first.subarray(-4), hex("0000ffff"));
  const second = c.compress({ streamtype: "stderr" });
  assert.notDeepEqual(second.subarray(0, 2), hex("78f9"), "the zlib header appears once per direction");
  assert.deepEqual(second.subarray(-4), hex("0000ffff"));
});

/** A real, stateful zlib stream: what every other SPDY implementation uses. */
function statefulInflate(): (block: Buffer) => Promise<Buffer> {
  const inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  const out: Buffer[] = [];
  inflate.on("data", (d: Buffer) => out.push(d));
  return (block) =>
    new Promise((resolve, reject) => {
      inflate.once("error", reject);
      inflate.write(block);
      inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => resolve(Buffer.concat(out.splice(0)))));
    });
}

function statefulDeflate(): (plain: Buffer) => Promise<Buffer> {
  const deflate = zlib.createDeflate({ level: 9, dictionary: SPDY3_DICTIONARY });
  const out: Buffer[] = [];
  deflate.on("data", (d: Buffer) => out.push(d));
  return (plain) =>
    new Promise((resolve) => {
      deflate.write(plain);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => resolve(Buffer.concat(out.splice(0)))));
    });
}

const conversation: Array<Record<string, string>> = [
  { streamtype: "error" },
  { streamtype: "stdout" },
  { streamtype: "stderr" },
  { streamtype: "resize" },
  {},
  { streamtype: "data", port: "8080", requestid: "0" },
  { streamtype: "error", port: "8080", requestid: "0" },
  { "x-big": "x".repeat(40_000) }, // more than the 32 KiB window
  { streamtype: "data", port: "8080", requestid: "1" },
];

test("our compressed stream decodes with one stateful zlib context (as spdystream reads it)", async () => {
  const c = new HeaderCompressor();
  const inflate = statefulInflate();
  for (const headers of conversation) {
    const plain = await inflate(c.compress(headers));
    assert.deepEqual(decodeHeaderBlock(plain), toSpdyHeaders(headers));
  }
});

test("a stateful zlib stream (as spdystream writes it) decodes block by block", async () => {
  const d = new HeaderDecompressor();
  const deflate = statefulDeflate();
  for (const headers of conversation) {
    const block = await deflate(encodeHeaderBlock(toSpdyHeaders(headers)));
    assert.deepEqual(d.decompress(block), toSpdyHeaders(headers));
  }
});

test("round trip through our own pair, context carried across blocks", () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const sizes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const block = c.compress({ streamtype: "stdout", requestid: "42" });
    sizes.push(block.length);
    assert.equal(headerValue(d.decompress(block), "requestid"), "42");
  }
  assert.ok(sizes[2]! < sizes[0]!, `repeated headers compress better with context: ${sizes.join(",")}`);
});

test("a second block depends on the first: decoding it alone fails", () => {
  const c = new HeaderCompressor();
  c.compress({ streamtype: "stdout", requestid: "42" });
  const second = c.compress({ streamtype: "stdout", requestid: "42" });
  assert.throws(() => new HeaderDecompressor().decompress(second), SpdyProtocolError);
});

test("a header block that inflates beyond the cap is refused without inflating it all", () => {
  const plain = encodeHeaderBlock(toSpdyHeaders({ bomb: "a".repeat(10 * 1024 * 1024) }));
  const bomb = Buffer.concat([
    hex("78f9 e3c6a7c2"),
    zlib.deflateRawSync(plain, { level: 9, dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  ]);
  assert.ok(bomb.length < 20_000, `the bomb is small: ${bomb.length}`);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => new HeaderDecompressor({ maxHeaderBlockSize: 1024 * 1024 }).decompress(bomb),
    (e: unknown) => e instanceof SpdyProtocolError && /more than 1048576 bytes/.test(e.message),
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 8 * 1024 * 1024);
});

const badCompressed: Array<[string, Buffer, RegExp]> = [
  ["not zlib", hex("0102030405060708"), /zlib header/],
  ["another dictionary", hex("7820 01020304 00 0000 ffff"), /dictionary other than SPDY/],
  ["no sync flush at the end", GOLDEN_FIRST_BLOCK.subarray(0, -5), /sync flush/],
  ["garbage deflate data", Buffer.concat([hex("7820 e3c6a7c2 ff ff ff"), hex("0000ffff")]), /does not decompress/],
  ["data after a final block", Buffer.concat([hex("7820 e3c6a7c2 01 0400 fbff 00000000"), hex("00 0000 ffff")]), /does not decompress/],
];
for (const [name, block, message] of badCompressed) {
  test(`compressed header block: ${name} is a protocol error and breaks the context`, () => {
    const d = new HeaderDecompressor();
    assert.throws(() => d.decompress(block), (e: unknown) => e instanceof SpdyProtocolError && message.test(e.message));
    assert.throws(() => d.decompress(GOLDEN_FIRST_BLOCK), /context is broken/);
  });
}
