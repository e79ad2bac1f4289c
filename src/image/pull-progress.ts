// Progress of one pull from the Transfer service's progress events, and the stall rule of
// containerd's CRI (transferProgressReporter): a pull with blobs still to fetch whose byte
// count has not grown for image_pull_progress_timeout is stuck. containerd counts a blob
// only once its first bytes arrived, so a registry that answers a blob request with
// headers and then nothing is never cancelled; crib counts every announced blob that is not
// yet present. Nothing left to fetch (resolving, unpacking the last layer) is never a
// stall. Pure: time is given.

export interface ProgressEvent {
  event: string;
  name: string;
  progress: number;
  total: number;
  /** The event names a blob (it carries a descriptor). */
  hasDescriptor: boolean;
}

export interface ProgressSnapshot {
  /** Bytes fetched from the registry so far (existing content not counted). */
  bytesRead: number;
  /** Declared size of every blob the pull has named so far. */
  totalBytes: number;
  /** Blobs being downloaded right now. */
  activeDownloads: number;
  /** Blobs present (downloaded now or before). */
  blobsDone: number;
  blobs: number;
}

/** How often progress is checked and logged: every 5s, or twice per timeout when shorter. */
export function progressCheckInterval(timeoutMs: number): number {
  return timeoutMs > 0 ? Math.max(50, Math.min(5000, Math.floor(timeoutMs / 2))) : 5000;
}

export class PullProgress {
  private readonly inFlight = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private readonly done = new Set<string>();
  private bytesRead = 0;
  private lastSeenBytes = 0;
  private lastSeenAt: number;
  private wasActive = false;

  constructor(
    private readonly timeoutMs: number,
    startedAt: number,
  ) {
    this.lastSeenAt = startedAt;
  }

  handle(p: ProgressEvent): void {
    // Only events about a blob fetched from the registry matter (name, descriptor, size).
    if (!p.name || !p.hasDescriptor || p.total === 0) return;
    this.totals.set(p.name, p.total);
    // "waiting" with bytes already read is a download that paused, same as "downloading".
    if (p.event === "downloading" || (p.event === "waiting" && p.progress > 0)) {
      const before = this.inFlight.get(p.name);
      const grown = before === undefined ? p.progress : p.progress - before;
      if (grown > 0) this.bytesRead += grown;
      if (p.progress >= p.total) {
        this.inFlight.delete(p.name);
        this.done.add(p.name);
      } else {
        this.inFlight.set(p.name, p.progress);
      }
    } else if (p.event === "complete" || p.event === "already exists") {
      const before = this.inFlight.get(p.name);
      // A blob fetched too fast to report "downloading" still counts as read ("complete" only).
      if (p.event === "complete" && !this.done.has(p.name)) {
        const read = Math.max(p.progress, p.total) - (before ?? 0);
        if (read > 0) this.bytesRead += read;
      }
      this.inFlight.delete(p.name);
      this.done.add(p.name);
    }
  }

  snapshot(): ProgressSnapshot {
    let totalBytes = 0;
    for (const t of this.totals.values()) totalBytes += t;
    return { bytesRead: this.bytesRead, totalBytes, activeDownloads: this.inFlight.size, blobsDone: this.done.size, blobs: this.totals.size };
  }

  /**
   * Called on each check tick: true when blobs are still to fetch and no byte arrived for
   * longer than the timeout. A timeout of 0 disables the rule (as in containerd).
   */
  stalled(now: number): boolean {
    const active = this.inFlight.size > 0 || this.totals.size > this.done.size;
    // Idle, new bytes, or a download that just started after an idle spell: the clock restarts.
    if (!active || this.bytesRead > this.lastSeenBytes || !this.wasActive) {
      this.lastSeenBytes = this.bytesRead;
      this.lastSeenAt = now;
      this.wasActive = active;
      return false;
    }
    return this.timeoutMs > 0 && now - this.lastSeenAt > this.timeoutMs;
  }
}

/** At most one progress line per pull this often, whatever the stall check's pace. */
export const PROGRESS_LOG_INTERVAL_MS = 5000;

export interface ProgressReport {
  bytesRead: number;
  totalBytes: number;
  /** bytes per second since the previous report (or the start) */
  bytesPerSecond: number;
  elapsedMs: number;
}

/** Decides when a pull's progress is logged for a person to read, and at which rate. Pure: time is given. */
export class ProgressLogThrottle {
  private lastAt: number;
  private lastBytes = 0;

  constructor(
    private readonly startedAt: number,
    private readonly intervalMs = PROGRESS_LOG_INTERVAL_MS,
  ) {
    this.lastAt = startedAt;
  }

  /** A report when intervalMs passed since the last one (or the start), else undefined. */
  next(now: number, snap: Pick<ProgressSnapshot, "bytesRead" | "totalBytes">): ProgressReport | undefined {
    if (now - this.lastAt < this.intervalMs) return undefined;
    const seconds = (now - this.lastAt) / 1000;
    const report = {
      bytesRead: snap.bytesRead,
      totalBytes: snap.totalBytes,
      bytesPerSecond: Math.max(0, Math.round((snap.bytesRead - this.lastBytes) / seconds)),
      elapsedMs: now - this.startedAt,
    };
    this.lastAt = now;
    this.lastBytes = snap.bytesRead;
    return report;
  }
}

/** "3.4 MiB" */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** "1.2 MiB of 3.4 MiB at 512.0 KiB/s" */
export function describeProgress(r: ProgressReport): string {
  return `${formatBytes(r.bytesRead)} of ${formatBytes(r.totalBytes)} at ${formatBytes(r.bytesPerSecond)}/s`;
}
