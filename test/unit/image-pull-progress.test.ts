import { test } from "node:test";
import assert from "node:assert/strict";
import { PullProgress, progressCheckInterval, type ProgressEvent } from "../../src/image/pull-progress.js";

const ev = (event: string, name: string, progress: number, total: number): ProgressEvent => ({ event, name, progress, total, hasDescriptor: true });

test("bytes are counted from downloading events, once per byte", () => {
  const p = new PullProgress(1000, 0);
  p.handle(ev("waiting", "layer-a", 0, 100));
  p.handle(ev("downloading", "layer-a", 40, 100));
  p.handle(ev("downloading", "layer-a", 70, 100));
  p.handle(ev("already exists", "config-c", 10, 10));
  assert.deepEqual(p.snapshot(), { bytesRead: 70, totalBytes: 110, activeDownloads: 1, blobsDone: 1, blobs: 2 });
  p.handle(ev("complete", "layer-a", 100, 100));
  assert.deepEqual(p.snapshot(), { bytesRead: 100, totalBytes: 110, activeDownloads: 0, blobsDone: 2, blobs: 2 });
});

test("a blob fetched too fast for a downloading event counts when it completes, once", () => {
  const p = new PullProgress(1000, 0);
  p.handle(ev("complete", "layer-fast", 0, 300));
  p.handle(ev("complete", "layer-fast", 300, 300));
  p.handle(ev("already exists", "layer-present", 50, 50));
  assert.equal(p.snapshot().bytesRead, 300);
});

test("events without a blob are ignored", () => {
  const p = new PullProgress(1000, 0);
  p.handle({ event: "Resolving from OCI Registry (x)", name: "", progress: 0, total: 0, hasDescriptor: false });
  p.handle({ event: "saved", name: "x:latest", progress: 0, total: 0, hasDescriptor: true });
  assert.deepEqual(p.snapshot(), { bytesRead: 0, totalBytes: 0, activeDownloads: 0, blobsDone: 0, blobs: 0 });
});

test("a download with no new bytes for longer than the timeout is stalled", () => {
  const p = new PullProgress(1000, 0);
  p.handle(ev("downloading", "layer-a", 10, 100));
  // First tick with a download under way (after idle) restarts the clock.
  assert.equal(p.stalled(500), false);
  assert.equal(p.stalled(1400), false);
  assert.equal(p.stalled(1501), true);
});

test("new bytes restart the clock", () => {
  const p = new PullProgress(1000, 0);
  p.handle(ev("downloading", "layer-a", 10, 100));
  assert.equal(p.stalled(500), false);
  p.handle(ev("downloading", "layer-a", 20, 100));
  assert.equal(p.stalled(1400), false);
  assert.equal(p.stalled(2401), true);
});

test("a blob announced but never started is a stall too (a registry that sends headers only)", () => {
  const p = new PullProgress(1000, 0);
  p.handle(ev("waiting", "layer-a", 0, 100));
  assert.equal(p.stalled(500), false);
  assert.equal(p.stalled(1501), true);
});

test("nothing left to fetch is never a stall (resolving, unpacking)", () => {
  const p = new PullProgress(1000, 0);
  assert.equal(p.stalled(5000), false);
  p.handle(ev("waiting", "layer-a", 0, 100));
  assert.equal(p.stalled(10_000), false);
  p.handle(ev("downloading", "layer-a", 100, 100));
  assert.equal(p.stalled(20_000), false);
});

test("a timeout of 0 disables the stall rule", () => {
  const p = new PullProgress(0, 0);
  p.handle(ev("downloading", "layer-a", 10, 100));
  assert.equal(p.stalled(1), false);
  assert.equal(p.stalled(1e9), false);
});

test("progressCheckInterval: every 5s, twice per timeout when shorter", () => {
  assert.equal(progressCheckInterval(300_000), 5000);
  assert.equal(progressCheckInterval(2000), 1000);
  assert.equal(progressCheckInterval(0), 5000);
});
