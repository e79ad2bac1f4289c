import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { exactInt, parseExact, stringifyExact } from "../../src/containerd/exact-json.js";
import { jsonAny, parseJsonAny } from "../../src/containerd/any.js";
import { messageFromGo, messageToGo } from "../../src/containerd/go-json.js";
import { LinuxContainerResourcesSchema } from "../../src/gen/runtime/v1/api_pb.js";

const MAX_I64 = 9223372036854775807n;
const MIN_I64 = -9223372036854775808n;
const MAX_U64 = 18446744073709551615n;

test("stringifyExact writes bigints as exact integer literals", () => {
  const text = stringifyExact({ memory: { limit: MAX_I64, swap: -1 }, cpu: { quota: MIN_I64, shares: MAX_U64 }, s: "x" });
  assert.equal(text, '{"memory":{"limit":9223372036854775807,"swap":-1},"cpu":{"quota":-9223372036854775808,"shares":18446744073709551615},"s":"x"}');
  assert.equal(stringifyExact([1n, "2", 3]), '[1,"2",3]');
  assert.equal(stringifyExact({ a: 1 }), JSON.stringify({ a: 1 }));
});

test("stringifyExact leaves strings that look like its markers alone", () => {
  const text = stringifyExact({ s: '\u0001exact-int-abc:12"', n: 5n });
  assert.deepEqual(JSON.parse(text), { s: '\u0001exact-int-abc:12"', n: 5 });
});

test("parseExact reads integers past 2^53 as bigints and everything else as JSON.parse", () => {
  const v = parseExact('{"a":9223372036854775807,"b":-9223372036854775808,"c":18446744073709551615,"d":42,"e":1.5e300,"f":"9223372036854775807","g":[9007199254740993, 9007199254740991],"h":-1}');
  assert.deepEqual(v, { a: MAX_I64, b: MIN_I64, c: MAX_U64, d: 42, e: 1.5e300, f: "9223372036854775807", g: [9007199254740993n, 9007199254740991], h: -1 });
  assert.deepEqual(parseExact('"a\\"1234567890123456789"'), 'a"1234567890123456789');
  assert.deepEqual(parseExact("12345678901234567890.5"), 12345678901234567890.5);
  assert.throws(() => parseExact("{"), SyntaxError);
});

test("round trip through an Any keeps every 64-bit value exact", () => {
  const spec = { linux: { resources: { memory: { limit: MAX_I64 }, cpu: { quota: -1, period: MAX_U64 } } } };
  const any = jsonAny("t", spec);
  assert.match(Buffer.from(any.value).toString(), /"limit":9223372036854775807/);
  assert.deepEqual(parseJsonAny(any, "t"), spec);
});

test("exactInt is a number within 2^53 and a bigint beyond", () => {
  assert.equal(exactInt(5n), 5);
  assert.equal(exactInt(-9007199254740991n), -9007199254740991);
  assert.equal(exactInt(9007199254740992n), 9007199254740992n);
  assert.equal(exactInt(MAX_I64), MAX_I64);
});

test("Go-JSON of CRI messages keeps int64 exact both ways", () => {
  const r = create(LinuxContainerResourcesSchema, { memoryLimitInBytes: MAX_I64, cpuQuota: -1n, oomScoreAdj: 5n, cpuShares: 0n });
  const go = messageToGo(LinuxContainerResourcesSchema, r as unknown as Record<string, unknown>);
  assert.deepEqual(go, { cpu_quota: -1, memory_limit_in_bytes: MAX_I64, oom_score_adj: 5 });
  const back = messageFromGo(LinuxContainerResourcesSchema, parseExact(stringifyExact(go)));
  assert.equal(back.memoryLimitInBytes, MAX_I64);
  assert.equal(back.cpuQuota, -1n);
});
