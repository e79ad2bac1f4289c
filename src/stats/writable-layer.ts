// The writable layer's usage of each container (ContainerStats.writable_layer) from
// Snapshots.Usage. On overlayfs that call walks the container's upper directory, so it is
// not made on every stats request: like containerd's snapshot syncer (every 10s), a value
// is kept and refreshed in the background once it is older than the refresh interval; only
// the first request for a container waits for it.
import type { Containerd } from "../containerd/client.js";
import { messageOf } from "../errors.js";
import type { Logger } from "../log.js";

export interface LayerUsage {
  /** Unix nanoseconds of the measurement. */
  timestamp: bigint;
  usedBytes: bigint;
  inodesUsed: bigint;
}

export const REFRESH_MS = 10_000;
/**
 * Snapshots.Usage calls in flight at once: with hundreds of containers, every layer goes
 * stale in the same second, and 500 concurrent directory walks in containerd delayed every
 * other call for as long.
 */
export const MEASURE_CONCURRENCY = 8;

interface Entry {
  value: LayerUsage | undefined;
  measuredAt: number;
  refreshing: Promise<LayerUsage | undefined> | undefined;
}

export class WritableLayerUsage {
  private readonly entries = new Map<string, Entry>();
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly cd: Containerd,
    private readonly logger: Logger,
    private readonly refreshMs = REFRESH_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The latest usage of the snapshot, at once when one is known (a stale one is refreshed
   * in the background); else a promise of the first measurement, undefined when it cannot
   * be measured (gone). Stats of hundreds of containers read hundreds of these: no promise
   * is made for a known value.
   */
  get(snapshotter: string, key: string): LayerUsage | Promise<LayerUsage | undefined> {
    const id = `${snapshotter}/${key}`;
    let e = this.entries.get(id);
    if (!e) {
      e = { value: undefined, measuredAt: 0, refreshing: undefined };
      this.entries.set(id, e);
    }
    if (e.value && this.now() - e.measuredAt < this.refreshMs) return e.value;
    const refresh = (e.refreshing ??= this.measure(snapshotter, key, e));
    return e.value ?? refresh;
  }

  private async measure(snapshotter: string, key: string, e: Entry): Promise<LayerUsage | undefined> {
    if (this.inFlight >= MEASURE_CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    try {
      const u = await this.cd.snapshots.usage({ snapshotter, key });
      e.value = { timestamp: BigInt(this.now()) * 1_000_000n, usedBytes: u.size > 0n ? u.size : 0n, inodesUsed: u.inodes > 0n ? u.inodes : 0n };
      e.measuredAt = this.now();
    } catch (err) {
      this.logger.debug("writable layer usage unavailable", { snapshotter, key, error: messageOf(err) });
    } finally {
      e.refreshing = undefined;
      this.inFlight--;
      this.waiting.shift()?.();
    }
    return e.value;
  }

  /** Forgets snapshots of containers no longer alive. */
  retain(alive: (snapshotter: string, key: string) => boolean): void {
    for (const id of this.entries.keys()) {
      const slash = id.indexOf("/");
      if (!alive(id.slice(0, slash), id.slice(slash + 1))) this.entries.delete(id);
    }
  }
}
