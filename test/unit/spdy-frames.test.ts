// Golden bytes for every SPDY/3.1 frame type, written out by hand from the spec's layout
// (and from moby/spdystream's framer, which is what kubelet and crictl put on the wire).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ControlType,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  GoAwayStatus,
  RstStatus,
  SettingsId,
  decodeControlFrame,
  encodeFrame,
  type Frame,
} from "../../src/streaming/spdy/frames.js";
import { FrameReader } from "../../src/streaming/spdy/frame-reader.js";
import { SpdyProtocolError } from "../../src/streaming/spdy/errors.js";

const hex = (s: string) => Buffer.from(s.replace(/[\s|]/g, ""), "hex");

const golden: Array<{ name: string; frame: Frame; bytes: Buffer }> = [
  {
    name: "SYN_STREAM, first client stream, no flags",
    frame: { type: "SYN_STREAM", streamId: 1, associatedToStreamId: 0, priority: 0, slot: 0, flags: 0, headerBlock: hex("aabb") },
    //        ver 3 | type 1 | flags 0 len 12 | stream 1   | assoc 0    | pri | slot | block
    bytes: hex("8003 0001 | 00 00000c | 00000001 | 00000000 | 00 | 00 | aabb"),
  },
  {
    name: "SYN_STREAM with FIN|UNIDIRECTIONAL, priority 7, associated stream",
    frame: {
      type: "SYN_STREAM",
      streamId: 5,
      associatedToStreamId: 3,
      priority: 7,
      slot: 2,
      flags: FLAG_FIN | FLAG_UNIDIRECTIONAL,
      headerBlock: hex("aabb"),
    },
    bytes: hex("8003 0001 | 03 00000c | 00000005 | 00000003 | e0 | 02 | aabb"),
  },
  {
    name: "SYN_REPLY",
    frame: { type: "SYN_REPLY", streamId: 1, flags: 0, headerBlock: hex("aa") },
    bytes: hex("8003 0002 | 00 000005 | 00000001 | aa"),
  },
  {
    name: "RST_STREAM CANCEL (what spdystream's Reset sends)",
    frame: { type: "RST_STREAM", streamId: 3, status: RstStatus.Cancel },
    bytes: hex("8003 0003 | 00 000008 | 00000003 | 00000005"),
  },
  {
    name: "SETTINGS INITIAL_WINDOW_SIZE=64KiB and a persisted MAX_CONCURRENT_STREAMS",
    frame: {
      type: "SETTINGS",
      flags: 0,
      entries: [
        { flags: 0, id: SettingsId.InitialWindowSize, value: 65536 },
        { flags: 1, id: SettingsId.MaxConcurrentStreams, value: 100 },
      ],
    },
    bytes: hex("8003 0004 | 00 000014 | 00000002 | 00 000007 | 00010000 | 01 000004 | 00000064"),
  },
  {
    name: "PING",
    frame: { type: "PING", id: 1 },
    bytes: hex("8003 0006 | 00 000004 | 00000001"),
  },
  {
    name: "GOAWAY OK",
    frame: { type: "GOAWAY", lastGoodStreamId: 7, status: GoAwayStatus.Ok },
    bytes: hex("8003 0007 | 00 000008 | 00000007 | 00000000"),
  },
  {
    name: "GOAWAY PROTOCOL_ERROR",
    frame: { type: "GOAWAY", lastGoodStreamId: 0, status: GoAwayStatus.ProtocolError },
    bytes: hex("8003 0007 | 00 000008 | 00000000 | 00000001"),
  },
  {
    name: "HEADERS with FIN",
    frame: { type: "HEADERS", streamId: 1, flags: FLAG_FIN, headerBlock: hex("aa") },
    bytes: hex("8003 0008 | 01 000005 | 00000001 | aa"),
  },
  {
    name: "WINDOW_UPDATE for a stream",
    frame: { type: "WINDOW_UPDATE", streamId: 1, deltaWindowSize: 32768 },
    bytes: hex("8003 0009 | 00 000008 | 00000001 | 00008000"),
  },
  {
    name: "WINDOW_UPDATE for the session (SPDY/3.1)",
    frame: { type: "WINDOW_UPDATE", streamId: 0, deltaWindowSize: 0x7fffffff },
    bytes: hex("8003 0009 | 00 000008 | 00000000 | 7fffffff"),
  },
  {
    name: "DATA",
    frame: { type: "DATA", streamId: 1, flags: 0, data: Buffer.from("hi") },
    bytes: hex("00000001 | 00 000002 | 6869"),
  },
  {
    name: "empty DATA with FIN (what spdystream's Close sends)",
    frame: { type: "DATA", streamId: 3, flags: FLAG_FIN, data: Buffer.alloc(0) },
    bytes: hex("00000003 | 01 000000"),
  },
];

function readAll(bytes: Buffer, chunkSize = bytes.length): Frame[] {
  const frames: Frame[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  for (let i = 0; i < bytes.length; i += chunkSize) reader.push(bytes.subarray(i, i + chunkSize));
  assert.equal(reader.bufferedBytes, 0);
  return frames;
}

for (const { name, frame, bytes } of golden) {
  test(`encode ${name}`, () => {
    assert.deepEqual(encodeFrame(frame), bytes);
  });
  test(`decode ${name}`, () => {
    assert.deepEqual(readAll(bytes), [frame]);
  });
}

test("all frames back to back, fed one byte at a time, decode in order", () => {
  const stream = Buffer.concat(golden.map((g) => g.bytes));
  assert.deepEqual(readAll(stream, 1), golden.map((g) => g.frame));
  assert.deepEqual(readAll(stream, 7), golden.map((g) => g.frame));
});

test("a large DATA frame split across many chunks comes out whole", () => {
  const data = Buffer.alloc(200_000, 0x61);
  const bytes = encodeFrame({ type: "DATA", streamId: 9, flags: 0, data });
  const frames = readAll(bytes, 4096);
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0], { type: "DATA", streamId: 9, flags: 0, data });
});

test("unknown control frame types are skipped, the next frame still arrives", () => {
  // Type 10 (CREDENTIAL) with 5 payload bytes, then a PING.
  const bytes = Buffer.concat([hex("8003 000a | 00 000005 | 0102030405"), hex("8003 0006 | 00 000004 | 00000003")]);
  assert.deepEqual(readAll(bytes, 3), [{ type: "PING", id: 3 }]);
  assert.equal(decodeControlFrame(5, 0, Buffer.alloc(0)), undefined);
});

const malformed: Array<{ name: string; bytes: Buffer; message: RegExp }> = [
  { name: "SPDY/2 control frame", bytes: hex("8002 0006 | 00 000004 | 00000001"), message: /unsupported SPDY version 2/ },
  { name: "RST_STREAM with length 4", bytes: hex("8003 0003 | 00 000004 | 00000001"), message: /RST_STREAM frame with length 4/ },
  { name: "RST_STREAM status 0", bytes: hex("8003 0003 | 00 000008 | 00000001 | 00000000"), message: /status 0/ },
  { name: "RST_STREAM stream 0", bytes: hex("8003 0003 | 00 000008 | 00000000 | 00000005"), message: /stream id 0/ },
  { name: "PING with length 8", bytes: hex("8003 0006 | 00 000008 | 00000001 | 00000000"), message: /PING frame with length 8/ },
  { name: "PING id 0", bytes: hex("8003 0006 | 00 000004 | 00000000"), message: /PING frame with id 0/ },
  { name: "GOAWAY with length 4 (SPDY/2 layout)", bytes: hex("8003 0007 | 00 000004 | 00000000"), message: /GOAWAY frame with length 4/ },
  { name: "WINDOW_UPDATE with length 4", bytes: hex("8003 0009 | 00 000004 | 00000001"), message: /WINDOW_UPDATE frame with length 4/ },
  { name: "SETTINGS count larger than the frame", bytes: hex("8003 0004 | 00 00000c | 00000005 | 00000007 | 00010000"), message: /SETTINGS frame with length 12, expected 44/ },
  { name: "SYN_STREAM shorter than its fixed fields", bytes: hex("8003 0001 | 00 000004 | 00000001"), message: /SYN_STREAM frame too short/ },
  { name: "SYN_STREAM for stream 0", bytes: hex("8003 0001 | 00 00000a | 00000000 | 00000000 | 0000"), message: /stream id 0/ },
  { name: "SYN_REPLY shorter than a stream id", bytes: hex("8003 0002 | 00 000002 | 0000"), message: /SYN_REPLY frame too short/ },
  { name: "DATA for stream 0", bytes: hex("00000000 | 00 000001 | 61"), message: /DATA frame for stream id 0/ },
  { name: "control frame longer than the limit (16 MiB - 1)", bytes: hex("8003 0001 | 00 ffffff"), message: /exceeds the limit/ },
];

for (const { name, bytes, message } of malformed) {
  test(`malformed: ${name} is a protocol error`, () => {
    const frames: Frame[] = [];
    const reader = new FrameReader((f) => frames.push(f));
    assert.throws(() => reader.push(bytes), (err: unknown) => err instanceof SpdyProtocolError && message.test(err.message));
    assert.deepEqual(frames, []);
    // The reader stays failed: nothing after a malformed frame can be trusted.
    assert.throws(() => reader.push(hex("8003 0006 | 00 000004 | 00000001")), SpdyProtocolError);
  });
}

test("frames before a malformed one are still delivered", () => {
  const frames: Frame[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  const bytes = Buffer.concat([hex("8003 0006 | 00 000004 | 00000001"), hex("8002 0006 | 00 000004 | 00000001")]);
  assert.throws(() => reader.push(bytes), SpdyProtocolError);
  assert.deepEqual(frames, [{ type: "PING", id: 1 }]);
});

test("DATA length limit is configurable", () => {
  const reader = new FrameReader(() => {}, { maxDataLength: 4 });
  assert.throws(() => reader.push(hex("00000001 | 00 000005")), /DATA frame of 5 bytes exceeds the limit of 4/);
});

test("control type constants match the spec", () => {
  assert.deepEqual(
    [ControlType.SynStream, ControlType.SynReply, ControlType.RstStream, ControlType.Settings, ControlType.Ping, ControlType.GoAway, ControlType.Headers, ControlType.WindowUpdate],
    [1, 2, 3, 4, 6, 7, 8, 9],
  );
});

test("encoding refuses values the wire cannot carry", () => {
  assert.throws(() => encodeFrame({ type: "DATA", streamId: 0, flags: 0, data: Buffer.alloc(0) }), RangeError);
  assert.throws(() => encodeFrame({ type: "PING", id: 0 }), RangeError);
  assert.throws(() => encodeFrame({ type: "RST_STREAM", streamId: 1, status: 0 }), RangeError);
  assert.throws(() => encodeFrame({ type: "DATA", streamId: 1, flags: 0, data: Buffer.alloc(0x1000000) }), RangeError);
});
