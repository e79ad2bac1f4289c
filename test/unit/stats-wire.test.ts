// The hand-written ContainerStats encoder must write exactly what protobuf-es's toBinary
// writes for the same message, field for field, so the kubelet decodes the same stats.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContainerAttributesSchema, ContainerStatsSchema, ListContainerStatsResponseSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { writeContainerStats } from "../../src/stats/stats-wire.js";
import { WireOut } from "../../src/rpc/wire-out.js";
import { criContainerStats, criWritableLayer, type ContainerStatsInit } from "../../src/stats/cri-stats.js";

const MAX_U64 = (1n << 64n) - 1n;
const attributes = { id: "c1", metadata: { name: "app", attempt: 3 }, labels: { a: "1", "io.kubernetes.pod.name": "p" }, annotations: { x: "y" } };

function same(init: ContainerStatsInit): void {
  const expected = toBinary(ContainerStatsSchema, create(ContainerStatsSchema, init));
  const attrs = toBinary(ContainerAttributesSchema, create(ContainerAttributesSchema, init.attributes ?? {}));
  // As a field of a reply, the way ListContainerStats writes it, with a tiny first buffer so growing is exercised too.
  const w = new WireOut(8);
  writeContainerStats(w, 1, attrs, init);
  const reply = w.finish();
  const expectedReply = toBinary(ListContainerStatsResponseSchema, create(ListContainerStatsResponseSchema, { stats: [init] }));
  assert.equal(reply.toString("hex"), Buffer.from(expectedReply).toString("hex"));
  const got = fromBinary(ListContainerStatsResponseSchema, reply).stats[0]!;
  assert.equal(Buffer.from(toBinary(ContainerStatsSchema, got)).toString("hex"), Buffer.from(expected).toString("hex"));
  assert.deepEqual(got, create(ContainerStatsSchema, init));
}

test("stats-wire: a running container's full sample", () => {
  same(
    criContainerStats({
      attributes,
      sample: {
        sample: {
          cpuUsageNs: 123_456_789_012n,
          memory: { workingSetBytes: 10n << 20n, availableBytes: MAX_U64, usageBytes: 12n << 20n, rssBytes: 1n, pageFaults: 0n, majorPageFaults: 77n },
          swap: { usageBytes: 0n, availableBytes: 5n },
        },
        atNs: 1_764_000_000_123_456_789n,
        nanoCores: 999n,
      },
      writableLayer: criWritableLayer({ timestamp: 1_764_000_000_000_000_000n, usedBytes: 4096n, inodesUsed: 9n }, "/var/lib/containerd/x", 1n),
    }),
  );
});

test("stats-wire: no task (attributes and writable layer only), zeros and unset fields", () => {
  same(criContainerStats({ attributes, writableLayer: criWritableLayer(undefined, "", 0n) }));
  same(criContainerStats({ attributes: { id: "", metadata: { name: "", attempt: 0 }, labels: {}, annotations: {} }, writableLayer: criWritableLayer(undefined, "/m", 42n) }));
  // A sample without a memory or swap reading, no previous CPU sample (no nano cores).
  same(criContainerStats({ attributes, sample: { sample: { cpuUsageNs: 0n }, atNs: 5n, nanoCores: undefined }, writableLayer: criWritableLayer(undefined, "/m", 5n) }));
});

test("stats-wire: a writable layer whose message passes 127 bytes (a long mountpoint) gets a two-byte length", () => {
  same(criContainerStats({ attributes, writableLayer: criWritableLayer({ timestamp: 7n, usedBytes: MAX_U64, inodesUsed: 3n }, "/" + "m".repeat(300), 1n) }));
  same(criContainerStats({ attributes: { ...attributes, labels: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "v".repeat(i)])) }, writableLayer: criWritableLayer(undefined, "/x", 1n) }));
});
