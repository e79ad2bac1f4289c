// The fast string encoder protobuf-es is configured with: the same bytes as UTF-8 for
// every kind of string, and messages round-trip through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import "../../src/rpc/text-encoding.js";
import { ContainerMetadataSchema } from "../../src/gen/runtime/v1/api_pb.js";

const CASES = ["", "abc", "a".repeat(64), "x".repeat(300), "héllo", "日本語", "emoji 😀", "nul\u0000byte", "\u007f\u0080", "é".repeat(300)];

test("encodeUtf8 gives UTF-8 bytes for ASCII, non-ASCII, long and empty strings", () => {
  const enc = getTextEncoding();
  for (const s of CASES) assert.deepEqual(Buffer.from(enc.encodeUtf8(s)), Buffer.from(s, "utf8"), JSON.stringify(s));
});

test("messages round-trip through the configured encoder", () => {
  for (const name of CASES) {
    const m = create(ContainerMetadataSchema, { name, attempt: 3 });
    assert.equal(fromBinary(ContainerMetadataSchema, toBinary(ContainerMetadataSchema, m)).name, name);
  }
});
