import { test } from "node:test";
import assert from "node:assert/strict";
import { ResizeDecodeError, ResizeEventDecoder, encodeResizeEvent } from "../../src/streaming/remotecommand/resize.js";

test("client-go's encoding, one event per write", () => {
  const d = new ResizeEventDecoder();
  assert.deepEqual(d.push(encodeResizeEvent({ width: 80, height: 24 })), [{ width: 80, height: 24 }]);
  assert.equal(encodeResizeEvent({ width: 80, height: 24 }).toString(), '{"Width":80,"Height":24}\n');
});

test("events split across frames and several in one frame", () => {
  const d = new ResizeEventDecoder();
  const stream = '{"Width":100,"Height":30}\n{"Width":120,"Height":40}{"Width":1,"Height":2}';
  const got = [];
  for (const ch of stream) got.push(...d.push(ch));
  assert.deepEqual(got, [
    { width: 100, height: 30 },
    { width: 120, height: 40 },
    { width: 1, height: 2 },
  ]);
  assert.deepEqual(new ResizeEventDecoder().push(Buffer.from(stream)), got);
});

test("Go's decoder rules: case-insensitive names, unknown fields ignored, missing fields zero", () => {
  const d = new ResizeEventDecoder();
  assert.deepEqual(d.push('{"width":10,"HEIGHT":20,"extra":{"a":"}"}}'), [{ width: 10, height: 20 }]);
  assert.deepEqual(d.push('{"Height":5}'), [{ width: 0, height: 5 }]);
});

const bad: Array<[string, string]> = [
  ["not JSON", "nonsense"],
  ["a number", "42"],
  ["negative width", '{"Width":-1,"Height":2}'],
  ["width above uint16", '{"Width":65536,"Height":2}'],
  ["string width", '{"Width":"80","Height":2}'],
  ["broken object", '{"Width":,}'],
];
for (const [name, input] of bad) {
  test(`malformed resize input (${name}) ends resize handling`, () => {
    const d = new ResizeEventDecoder();
    assert.throws(() => d.push(input), ResizeDecodeError);
    assert.deepEqual(d.push('{"Width":1,"Height":1}'), [], "stays failed, as kubelet stops reading");
  });
}

test("events before a malformed one are delivered", () => {
  const d = new ResizeEventDecoder();
  assert.deepEqual(d.push('{"Width":7,"Height":8}garbage'), [{ width: 7, height: 8 }]);
  assert.deepEqual(d.push('{"Width":1,"Height":1}'), []);
});

test("an unterminated event cannot grow without bound", () => {
  const d = new ResizeEventDecoder();
  assert.throws(() => d.push('{"Width":' + " ".repeat(5000)), /too long/);
});
