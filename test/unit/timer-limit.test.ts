import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_TIMER_MS, secondsToTimeoutMs, setTimerWithin, timerDelay } from "../../src/timer-limit.js";

test("secondsToTimeoutMs: none, within the timer limit, past it", () => {
  const cases: [number | bigint, number][] = [
    [0n, 0],
    [-1n, 0],
    [-9223372036854775808n, 0],
    [1n, 1000],
    [2147483n, 2147483000],
    [2147484n, Infinity],
    [2147483648n, Infinity],
    [9223372036854775807n, Infinity],
    [30, 30_000],
    [-5, 0],
    [Number.MAX_VALUE, Infinity],
    [Infinity, Infinity],
    [NaN, 0],
  ];
  for (const [s, want] of cases) assert.equal(secondsToTimeoutMs(s), want, `seconds ${s}`);
});

test("timerDelay refuses what Node would fire at once", () => {
  assert.equal(timerDelay(1), 1);
  assert.equal(timerDelay(MAX_TIMER_MS), MAX_TIMER_MS);
  assert.equal(timerDelay(MAX_TIMER_MS + 1), undefined);
  assert.equal(timerDelay(Infinity), undefined);
  assert.equal(timerDelay(0), undefined);
  assert.equal(timerDelay(-1), undefined);
  assert.equal(timerDelay(NaN), undefined);
});

test("setTimerWithin arms nothing past the limit, and a real timer within it", async () => {
  let fired = 0;
  assert.equal(setTimerWithin(2 ** 31, () => fired++), undefined);
  assert.equal(setTimerWithin(9223372036854775807 * 1000, () => fired++), undefined);
  const t = setTimerWithin(5, () => fired++);
  assert.ok(t);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fired, 1);
});
