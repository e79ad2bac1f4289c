// Stream* chunking and UpdatePodSandboxResources' pure parts: chunks by encoded size and
// count, the pod cgroup files written for v1 and v2, and the updated-resources extension's
// JSON as containerd writes it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { ContainerSchema, LinuxContainerResourcesSchema, StreamContainersResponseSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { chunkBySize, encodedItemSize, STREAM_CHUNK_MAX_BYTES } from "../../src/server/list-streams.js";
import { podCgroupWrites, sharesToWeight, validatePodResources } from "../../src/pod/sandbox-cgroup-resources.js";
import { updatedResourcesJson } from "../../src/pod/sandbox-update-resources.js";
import { CriError, Code } from "../../src/errors.js";

describe("Stream* chunks", () => {
  it("an item's encoded size is exactly what it adds to the response", () => {
    for (const big of [0, 100, 200, 20_000, 3 << 20]) {
      const item = { id: "c".repeat(64), annotations: { a: "x".repeat(big) } };
      const one = toBinary(StreamContainersResponseSchema, create(StreamContainersResponseSchema, { containers: [item] })).length;
      const two = toBinary(StreamContainersResponseSchema, create(StreamContainersResponseSchema, { containers: [item, item] })).length;
      assert.equal(encodedItemSize(ContainerSchema, item), one);
      assert.equal(two, 2 * one);
    }
  });

  const table: { name: string; sizes: number[]; maxBytes: number; maxItems: number; want: number[][] }[] = [
    { name: "empty list: no chunk (the stream ends at once)", sizes: [], maxBytes: 10, maxItems: 5, want: [] },
    { name: "all fit", sizes: [3, 3, 3], maxBytes: 10, maxItems: 5, want: [[3, 3, 3]] },
    { name: "split by bytes, exactly full allowed", sizes: [5, 5, 5, 1], maxBytes: 10, maxItems: 5, want: [[5, 5], [5, 1]] },
    { name: "split by count", sizes: [1, 1, 1, 1, 1], maxBytes: 100, maxItems: 2, want: [[1, 1], [1, 1], [1]] },
    { name: "an oversized item goes alone", sizes: [2, 50, 2], maxBytes: 10, maxItems: 5, want: [[2], [50], [2]] },
  ];
  for (const c of table) {
    it(c.name, () => {
      assert.deepEqual(
        chunkBySize(c.sizes, (s) => s, c.maxBytes, c.maxItems),
        c.want,
      );
    });
  }

  it("every chunk of a > 16 MiB list stays under the limit and keeps every item once, in order", () => {
    const items = Array.from({ length: 70 }, (_, i) => ({ id: `c${i}`, annotations: { big: "y".repeat(256 << 10) } }));
    const chunks = chunkBySize(items, (i) => encodedItemSize(ContainerSchema, i));
    assert.ok(chunks.length >= 2);
    for (const ch of chunks) {
      const bytes = toBinary(StreamContainersResponseSchema, create(StreamContainersResponseSchema, { containers: ch })).length;
      assert.ok(bytes <= STREAM_CHUNK_MAX_BYTES && bytes < 16 << 20, `${bytes}`);
    }
    assert.deepEqual(chunks.flat().map((i) => i.id), items.map((i) => i.id));
  });
});

describe("UpdatePodSandboxResources", () => {
  const res = (r: { cpuShares?: bigint; cpuQuota?: bigint; cpuPeriod?: bigint; memoryLimitInBytes?: bigint }) => create(LinuxContainerResourcesSchema, r);

  it("pod cgroup files: containers' sum plus overhead; zero fields left alone", () => {
    const resources = res({ cpuShares: 512n, cpuQuota: 50_000n, cpuPeriod: 100_000n, memoryLimitInBytes: 64n << 20n });
    const overhead = res({ cpuShares: 10n, cpuQuota: 1000n, memoryLimitInBytes: 1n << 20n });
    assert.deepEqual(podCgroupWrites("v1", resources, overhead), [
      { controller: "cpu", file: "cpu.shares", value: "522" },
      { controller: "cpu", file: "cpu.cfs_period_us", value: "100000" },
      { controller: "cpu", file: "cpu.cfs_quota_us", value: "51000" },
      { controller: "memory", file: "memory.limit_in_bytes", value: String(65n << 20n) },
    ]);
    assert.deepEqual(podCgroupWrites("v2", resources, overhead), [
      { controller: "", file: "cpu.weight", value: String(sharesToWeight(522n)) },
      { controller: "", file: "cpu.max", value: "51000 100000" },
      { controller: "", file: "memory.max", value: String(65n << 20n) },
    ]);
    // No quota, no memory limit (a container without limits): only the shares.
    assert.deepEqual(podCgroupWrites("v1", res({ cpuShares: 2n }), undefined), [{ controller: "cpu", file: "cpu.shares", value: "2" }]);
    assert.deepEqual(podCgroupWrites("v1", undefined, overhead), []);
  });

  it("shares → cpu.weight as runc converts them", () => {
    assert.equal(sharesToWeight(2n), 1n);
    assert.equal(sharesToWeight(1024n), 39n);
    assert.equal(sharesToWeight(262144n), 10000n);
  });

  it("a negative field is INVALID_ARGUMENT naming it", () => {
    assert.throws(
      () => validatePodResources("resources", res({ memoryLimitInBytes: -1n })),
      (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT && /resources\.memory_limit_in_bytes/.test(e.message),
    );
  });

  it("the extension's JSON is Go's encoding of podsandbox.UpdatedResources", () => {
    assert.deepEqual(updatedResourcesJson(res({ memoryLimitInBytes: 10n }), res({ cpuShares: 512n, memoryLimitInBytes: 5n })), {
      Overhead: { memory_limit_in_bytes: 10 },
      Resources: { cpu_shares: 512, memory_limit_in_bytes: 5 },
    });
    assert.deepEqual(updatedResourcesJson(undefined, undefined), { Overhead: null, Resources: null });
  });
});
