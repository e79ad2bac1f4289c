// Node's timers hold a signed 32-bit delay: setTimeout with more than 2^31-1 ms (about
// 24.8 days) warns and fires after 1 ms. A client's timeout (ExecSync, StopContainer,
// CheckpointContainer) or a configured duration can be far longer, up to 2^63-1 s, and
// must then mean "no timeout" rather than "at once". Every client or config number that
// reaches a timer goes through here.

/** The longest delay a Node timer keeps (2^31-1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A timeout in seconds (a CRI int64) as milliseconds: 0 for none given (0 or negative),
 * Infinity when it is past what a timer can hold, which callers treat as "no timeout".
 */
export function secondsToTimeoutMs(seconds: number | bigint): number {
  const s = Number(seconds);
  if (!(s > 0)) return 0;
  return s * 1000 > MAX_TIMER_MS ? Infinity : s * 1000;
}

/** The delay to arm a timer with, or undefined when there must be none (<= 0, past the limit, NaN). */
export function timerDelay(ms: number): number | undefined {
  return ms > 0 && ms <= MAX_TIMER_MS ? ms : undefined;
}

/** setTimeout that arms nothing for a delay timerDelay refuses (the callback then never runs). */
export function setTimerWithin(ms: number, fn: () => void): NodeJS.Timeout | undefined {
  const delay = timerDelay(ms);
  return delay === undefined ? undefined : setTimeout(fn, delay);
}
