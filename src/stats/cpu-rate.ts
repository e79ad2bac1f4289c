// usage_nano_cores: the CPU rate between an earlier sample of a container (or pod) and
// this one, in nanoseconds of CPU per second (1e9 = one core busy), as containerd and the
// kubelet compute it. The first sample has no rate. Samples closer than MIN_WINDOW to the
// last one (the kubelet asks for pod and container stats back to back) get the last rate
// instead of one measured over a few milliseconds. A counter that went back (a task
// restarted under the same id) starts over.
export interface CpuPoint {
  usageNs: bigint;
  /** Unix nanoseconds of the sample. */
  atNs: bigint;
}

export const MIN_WINDOW_NS = 1_000_000_000n;

export function nanoCores(prev: CpuPoint, cur: CpuPoint): bigint | undefined {
  const dt = cur.atNs - prev.atNs;
  if (dt <= 0n || cur.usageNs < prev.usageNs) return undefined;
  return ((cur.usageNs - prev.usageNs) * 1_000_000_000n) / dt;
}

export class CpuRateTracker {
  private readonly last = new Map<string, { point: CpuPoint; rate: bigint | undefined }>();

  /** The rate of id as of this sample, undefined until two samples a window apart exist. */
  rate(id: string, cur: CpuPoint): bigint | undefined {
    const prev = this.last.get(id);
    if (prev && cur.usageNs >= prev.point.usageNs && cur.atNs - prev.point.atNs < MIN_WINDOW_NS) return prev.rate;
    const rate = prev ? nanoCores(prev.point, cur) : undefined;
    this.last.set(id, { point: cur, rate });
    return rate;
  }

  /** Forgets ids no longer alive. */
  retain(alive: (id: string) => boolean): void {
    for (const id of this.last.keys()) if (!alive(id)) this.last.delete(id);
  }
}
