import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgressLogThrottle, describeProgress, formatBytes } from "../../src/image/pull-progress.js";

test("progress is reported at most once per interval, with the rate since the last report", () => {
  const t = new ProgressLogThrottle(1_000, 5000);
  // Ticks every second (the stall check's pace): only every fifth one logs.
  assert.equal(t.next(2_000, { bytesRead: 100, totalBytes: 10_000 }), undefined);
  assert.equal(t.next(5_999, { bytesRead: 400, totalBytes: 10_000 }), undefined);
  assert.deepEqual(t.next(6_000, { bytesRead: 5_000, totalBytes: 10_000 }), { bytesRead: 5_000, totalBytes: 10_000, bytesPerSecond: 1_000, elapsedMs: 5_000 });
  assert.equal(t.next(7_000, { bytesRead: 6_000, totalBytes: 10_000 }), undefined);
  assert.equal(t.next(10_999, { bytesRead: 9_000, totalBytes: 10_000 }), undefined);
  assert.deepEqual(t.next(11_000, { bytesRead: 10_000, totalBytes: 10_000 }), { bytesRead: 10_000, totalBytes: 10_000, bytesPerSecond: 1_000, elapsedMs: 10_000 });
});

test("a pull that makes no progress is still reported, at rate 0", () => {
  const t = new ProgressLogThrottle(0, 5000);
  assert.equal(t.next(5_000, { bytesRead: 0, totalBytes: 300 })?.bytesPerSecond, 0);
  assert.equal(t.next(10_000, { bytesRead: 0, totalBytes: 300 })?.bytesPerSecond, 0);
});

test("a late tick reports the rate over the whole gap", () => {
  const t = new ProgressLogThrottle(0, 5000);
  assert.equal(t.next(20_000, { bytesRead: 2_000_000, totalBytes: 4_000_000 })?.bytesPerSecond, 100_000);
});

test("progress reads as a person expects", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * 1024 * 1024 + 400 * 1024), "3.4 MiB");
  assert.equal(describeProgress({ bytesRead: 1_258_291, totalBytes: 3_565_158, bytesPerSecond: 524_288, elapsedMs: 5000 }), "1.2 MiB of 3.4 MiB at 512.0 KiB/s");
});
