// The writable layers' usage cache: a known value is answered at once (no promise per
// container per stats call), stale ones are refreshed in the background, and at most
// MEASURE_CONCURRENCY Snapshots.Usage calls are in flight however many layers go stale.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MEASURE_CONCURRENCY, WritableLayerUsage } from "../../src/stats/writable-layer.js";
import type { Containerd } from "../../src/containerd/client.js";

function fakeContainerd() {
  let inFlight = 0;
  let maxInFlight = 0;
  let calls = 0;
  const release: Array<() => void> = [];
  const cd = {
    snapshots: {
      usage: async ({ key }: { key: string }) => {
        calls++;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        if (key === "gone") throw new Error("not found");
        return { size: 4096n, inodes: 3n };
      },
    },
  } as unknown as Containerd;
  return { cd, stats: () => ({ calls, maxInFlight, inFlight }), releaseAll: () => release.splice(0).forEach((r) => r()) };
}

const logger = { debug: () => undefined } as never;
const settle = () => new Promise((r) => setImmediate(r));

test("writable layers: first read waits, later reads answer at once, stale ones refresh in the background", async () => {
  const f = fakeContainerd();
  let now = 1000;
  const usage = new WritableLayerUsage(f.cd, logger, 10_000, () => now);
  const first = usage.get("overlayfs", "k1");
  assert.ok(first instanceof Promise);
  await settle();
  f.releaseAll();
  assert.deepEqual(await first, { timestamp: 1000n * 1_000_000n, usedBytes: 4096n, inodesUsed: 3n });
  const again = usage.get("overlayfs", "k1");
  assert.ok(!(again instanceof Promise), "a known value is returned as is");
  assert.equal(again.usedBytes, 4096n);
  now += 10_001;
  const stale = usage.get("overlayfs", "k1");
  assert.ok(!(stale instanceof Promise), "a stale value is still answered at once");
  assert.equal(f.stats().calls, 2, "and a refresh started");
  f.releaseAll();
  await settle();
});

test("writable layers: 50 layers going stale together are measured at most MEASURE_CONCURRENCY at a time; a gone one is undefined", async () => {
  const f = fakeContainerd();
  const usage = new WritableLayerUsage(f.cd, logger, 10_000, () => 0);
  const all = Promise.all([...Array.from({ length: 50 }, (_, i) => usage.get("overlayfs", `k${i}`)), usage.get("overlayfs", "gone")]);
  for (let i = 0; i < 20; i++) {
    await settle();
    assert.ok(f.stats().inFlight <= MEASURE_CONCURRENCY);
    f.releaseAll();
  }
  const got = await all;
  assert.equal(f.stats().calls, 51);
  assert.equal(f.stats().maxInFlight, MEASURE_CONCURRENCY);
  assert.equal(got.filter((u) => u?.usedBytes === 4096n).length, 50);
  assert.equal(got[50], undefined);
});
