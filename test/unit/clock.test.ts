// crib's timestamps carry nanoseconds like containerd's (time.Now().UnixNano()), not
// milliseconds padded with zeros, and stay on the wall clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nowNs, timestampNs } from "../../src/clock.js";

test("nowNs has sub-millisecond resolution and follows the wall clock", () => {
  const samples: bigint[] = [];
  for (let i = 0; i < 50; i++) samples.push(nowNs());
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i]! >= samples[i - 1]!, "never goes back between calls");
  assert.ok(
    samples.some((t) => t % 1_000_000n !== 0n),
    "some sample has a non-zero sub-millisecond part",
  );
  const wall = BigInt(Date.now()) * 1_000_000n;
  const last = samples[samples.length - 1]!;
  const diff = last > wall ? last - wall : wall - last;
  assert.ok(diff < 2_000_000n, `within 2ms of Date.now(), off by ${diff}ns`);
});

test("timestampNs converts a protobuf Timestamp exactly, beyond 2^53", () => {
  assert.equal(timestampNs({ seconds: 1_700_000_000n, nanos: 123_456_789 } as Parameters<typeof timestampNs>[0]), 1_700_000_000_123_456_789n);
  assert.equal(timestampNs(undefined), undefined);
});
