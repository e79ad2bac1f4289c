// replyCache: a reply is encoded once per key, and its bytes are the encoded message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { VersionResponseSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { replyCache } from "../../src/rpc/proto-service.js";

test("replyCache: built once per key, rebuilt when the key changes, bytes as toBinary writes them", () => {
  const reply = replyCache(VersionResponseSchema);
  let builds = 0;
  const build = (v: string) => () => {
    builds++;
    return { version: "0.1.0", runtimeName: "containerd", runtimeVersion: v, runtimeApiVersion: "v1" };
  };
  const a = reply("v2.1.9", build("v2.1.9"));
  assert.equal(reply("v2.1.9", build("v2.1.9")), a);
  assert.equal(builds, 1);
  assert.deepEqual(a.bytes, Buffer.from(toBinary(VersionResponseSchema, create(VersionResponseSchema, build("v2.1.9")()))));
  const b = reply("v2.2.0", build("v2.2.0"));
  assert.notEqual(b, a);
  assert.equal(fromBinary(VersionResponseSchema, b.bytes).runtimeVersion, "v2.2.0");
});
