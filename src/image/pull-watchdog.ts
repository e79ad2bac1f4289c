// The ticker every pull runs beside its work, whichever way it pulls: logs progress at each
// check and cancels the pull with DEADLINE_EXCEEDED when image_pull_progress_timeout passes
// without a byte (the stall rule lives in pull-progress.ts).
import { CriError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { progressCheckInterval, type PullProgress } from "./pull-progress.js";

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
  const ticker = setInterval(() => {
    const now = Date.now();
    const snap = progress.snapshot();
    logger.info("pulling image", { image: ref, bytesRead: snap.bytesRead, totalBytes: snap.totalBytes, activeDownloads: snap.activeDownloads, blobs: `${snap.blobsDone}/${snap.blobs}`, elapsedMs: now - started });
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
