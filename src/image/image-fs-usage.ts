// ImageFsInfo's numbers: the disk and inodes used by every snapshot of crib's snapshotter
// in the namespace (containerd's CRI sums its snapshot store, kept by a syncer that asks
// Snapshots.Usage for each snapshot). A committed snapshot never changes, so its usage is
// asked once; active ones (container layers being written) are asked at each measurement.
//
// Measuring asks containerd once per active snapshot (hundreds with many containers), so
// ImageFsInfo answers from the last measurement, as containerd's CRI answers from the
// store its snapshot syncer refreshes: once asked, a background refresh runs every
// REFRESH_MS, and a call waits for a measurement only when the last is older than MAX_AGE_MS.
import type { Containerd } from "../containerd/client.js";
import { Kind } from "../gen/github.com/containerd/containerd/api/services/snapshots/v1/snapshots_pb.js";
import { isNotFound, wrap } from "../errors.js";

export interface ImageFsUsage {
  /** Unix nanoseconds of the measurement. */
  timestamp: bigint;
  mountpoint: string;
  usedBytes: bigint;
  inodesUsed: bigint;
}

/** Snapshots.Usage calls in flight at once. */
const USAGE_CONCURRENCY = 8;
/**
 * Background refresh period once ImageFsInfo was asked: containerd's snapshot syncer's
 * (10 s). Each refresh asks the usage of every active snapshot, one call each: with 500
 * containers, every 5 s cost crib 7% of a core.
 */
const REFRESH_MS = 10_000;
/** An answer is at most this old (the kubelet polls every 10 s or more); older, the call waits for a measurement. */
const MAX_AGE_MS = 15_000;

/** The snapshotter's root as containerd's plugin exports it, else containerd's default layout. */
export async function snapshotterRoot(cd: Containerd, snapshotter: string): Promise<string> {
  const fallback = `/var/lib/containerd/io.containerd.snapshotter.v1.${snapshotter}`;
  try {
    const { plugins } = await cd.introspection.plugins({ filters: [`type==io.containerd.snapshotter.v1,id==${snapshotter}`] });
    return plugins[0]?.exports["root"] ?? fallback;
  } catch {
    return fallback;
  }
}

export class SnapshotUsage {
  private readonly committed = new Map<string, { size: bigint; inodes: bigint }>();
  private last: { usage: ImageFsUsage; at: number } | undefined;
  private measuring: Promise<ImageFsUsage> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly cd: Containerd,
    readonly snapshotter: string,
    readonly mountpoint: string,
  ) {}

  /** The latest measurement no older than MAX_AGE_MS; starts the background refresh. */
  async current(): Promise<ImageFsUsage> {
    if (!this.timer && !this.stopped) {
      this.timer = setInterval(() => void this.refresh().catch(() => undefined), REFRESH_MS);
      this.timer.unref();
    }
    if (this.last && Date.now() - this.last.at < MAX_AGE_MS) return this.last.usage;
    return this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One measurement at a time; callers during one share it. */
  private refresh(): Promise<ImageFsUsage> {
    this.measuring ??= (async () => {
      try {
        const at = Date.now();
        const usage = await this.measure();
        this.last = { usage, at };
        return usage;
      } finally {
        this.measuring = undefined;
      }
    })();
    return this.measuring;
  }

  async measure(): Promise<ImageFsUsage> {
    const startedMs = Date.now();
    const infos: Array<{ name: string; kind: Kind }> = [];
    try {
      for await (const res of this.cd.snapshots.list({ snapshotter: this.snapshotter, filters: [] })) {
        for (const i of res.info) infos.push({ name: i.name, kind: i.kind });
      }
    } catch (e) {
      throw wrap(e, `failed to list snapshots of ${this.snapshotter}`);
    }
    const seen = new Set(infos.map((i) => i.name));
    for (const key of this.committed.keys()) if (!seen.has(key)) this.committed.delete(key);

    let usedBytes = 0n;
    let inodesUsed = 0n;
    const queue = [...infos];
    const worker = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const u = await this.usageOf(s.name, s.kind === Kind.COMMITTED);
        usedBytes += u.size;
        inodesUsed += u.inodes;
      }
    };
    await Promise.all(Array.from({ length: Math.min(USAGE_CONCURRENCY, infos.length) }, worker));
    // When the measurement began, as containerd reports its oldest snapshot measurement.
    return { timestamp: BigInt(startedMs) * 1_000_000n, mountpoint: this.mountpoint, usedBytes, inodesUsed };
  }

  private async usageOf(key: string, committed: boolean): Promise<{ size: bigint; inodes: bigint }> {
    const cached = committed ? this.committed.get(key) : undefined;
    if (cached) return cached;
    try {
      const u = await this.cd.snapshots.usage({ snapshotter: this.snapshotter, key });
      const usage = { size: u.size > 0n ? u.size : 0n, inodes: u.inodes > 0n ? u.inodes : 0n };
      if (committed) this.committed.set(key, usage);
      return usage;
    } catch (e) {
      // Removed between List and Usage: it no longer uses anything.
      if (isNotFound(e)) return { size: 0n, inodes: 0n };
      throw wrap(e, `failed to get usage of snapshot ${key}`);
    }
  }
}
