// crib's timestamps carry nanoseconds like containerd's (time.Now().UnixNano()), not
// milliseconds padded with zeros, and stay on the wall clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nowNs, timestampNs } from "../../src/clock.js";

test("nowNs has sub-millisecond resolution and follows the wall clock", () => {
  const samples: bigint[] = [];
  // Bracketed by Date.now() (ms resolution) so a preemption between the two clocks under
  // load cannot look like drift: every sample lies within 1 ms of the bracket.
  const before = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < 50; i++) samples.push(nowNs());
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i]! >= samples[i - 1]!, "never goes back between calls");
  assert.ok(
    samples.some((t) => t % 1_000_000n !== 0n),
    "some sample has a non-zero sub-millisecond part",
  );
  for (const t of [samples[0]!, samples[samples.length - 1]!]) {
    assert.ok(t >= before - 1_000_000n && t <= after + 1_000_000n, `${t} within 1 ms of the wall clock [${before}, ${after}]`);
  }
});

test("timestampNs converts a protobuf Timestamp exactly, beyond 2^53", () => {
  assert.equal(timestampNs({ seconds: 1_700_000_000n, nanos: 123_456_789 } as Parameters<typeof timestampNs>[0]), 1_700_000_000_123_456_789n);
  assert.equal(timestampNs(undefined), undefined);
});
