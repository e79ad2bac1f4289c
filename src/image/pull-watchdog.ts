// The ticker every pull runs beside its work, whichever way it pulls: logs progress at each
// check and cancels the pull with DEADLINE_EXCEEDED when image_pull_progress_timeout passes
// without a byte (the stall rule lives in pull-progress.ts).
import { CriError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { pullError } from "./pull-errors.js";
import { describeProgress, progressCheckInterval, ProgressLogThrottle, type PullProgress } from "./pull-progress.js";

export interface PullWatch {
  /** The stall error, once the watchdog fired (the pull was aborted for it). */
  stallError(): CriError | undefined;
  stop(): void;
}

function formatMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function watchPull(ref: string, progress: PullProgress, progressTimeoutMs: number, started: number, abort: AbortController, logger: Logger): PullWatch {
  let stall: CriError | undefined;
  const logThrottle = new ProgressLogThrottle(started);
  const ticker = setInterval(() => {
    const now = Date.now();
    const snap = progress.snapshot();
    // For a person reading the log: at most one line every few seconds, with the rate.
    const report = logThrottle.next(now, snap);
    if (report) {
      logger.info(`pulling image ${ref}: ${describeProgress(report)}`, { image: ref, ...report, activeDownloads: snap.activeDownloads, blobs: `${snap.blobsDone}/${snap.blobs}` });
    }
    if (progress.stalled(now)) {
      stall = new CriError(
        Code.DEADLINE_EXCEEDED,
        `failed to pull and unpack image ${JSON.stringify(ref)}: cancelled: no progress for ${formatMs(progressTimeoutMs)} (image_pull_progress_timeout) after ${snap.bytesRead} of ${snap.totalBytes} bytes`,
      );
      logger.warn("cancel pulling image: no progress", { image: ref, timeoutMs: progressTimeoutMs, bytesRead: snap.bytesRead });
      abort.abort();
    }
  }, progressCheckInterval(progressTimeoutMs));
  ticker.unref();
  return { stallError: () => stall, stop: () => clearInterval(ticker) };
}

/** The error a failed pull answers, either way it pulled: the stall, the caller's cancel, or containerd's words with crib's code. */
export function pullFailure(ref: string, watch: PullWatch | undefined, callerSignal: AbortSignal, e: unknown): CriError {
  const stall = watch?.stallError();
  if (stall) return stall;
  if (callerSignal.aborted) return new CriError(Code.CANCELLED, `failed to pull and unpack image ${JSON.stringify(ref)}: cancelled by the client`, { cause: e });
  return pullError(ref, e);
}
