// What the stats RPCs share: the stores, the previous CPU samples behind usage_nano_cores
// (per container and per pod), the writable layers' usage and the host's cgroup version;
// plus the Tasks.Metrics calls every stats RPC makes for the containers it reports.
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { wrap } from "../errors.js";
import type { ContainerStore, Container } from "../container/container-store.js";
import { type CgroupMetrics, decodeCgroupMetrics } from "./cgroup-sample.js";
import { CpuRateTracker } from "./cpu-rate.js";
import { type CgroupMode, detectCgroupMode } from "../common/cgroup-mode.js";
import { WritableLayerUsage } from "./writable-layer.js";
import type { CriDeps } from "../common/deps.js";
import type { SandboxStore } from "../pod/sandbox-store.js";

export interface StatsContext {
  deps: CriDeps;
  sandboxes: SandboxStore;
  containers: ContainerStore;
  containerCpu: CpuRateTracker;
  podCpu: CpuRateTracker;
  layers: WritableLayerUsage;
  /** Where the writable layers live (the snapshotter's root): FilesystemUsage.fs_id. */
  imageFsMountpoint: string;
  cgroupMode: CgroupMode;
}

export async function newStatsContext(deps: CriDeps, sandboxes: SandboxStore, containers: ContainerStore, imageFsMountpoint: string): Promise<StatsContext> {
  return {
    deps,
    sandboxes,
    containers,
    containerCpu: new CpuRateTracker(),
    podCpu: new CpuRateTracker(),
    layers: new WritableLayerUsage(deps.containerd, deps.logger),
    imageFsMountpoint,
    cgroupMode: await detectCgroupMode(),
  };
}

export interface TaskMetrics {
  metrics: CgroupMetrics;
  /** When the shim read the cgroup, Unix nanoseconds. */
  atNs: bigint;
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** containerd asks the shims of one Tasks.Metrics call one after the other: calls in parallel overlap them. */
const METRICS_CALLS = 8;
const MIN_PER_CALL = 4;

/** Splits items into at most `calls` runs of at least `min` (fewer when there are few). */
export function batches<T>(items: readonly T[], calls = METRICS_CALLS, min = MIN_PER_CALL): T[][] {
  const n = Math.max(1, Math.min(calls, Math.ceil(items.length / min)));
  const size = Math.ceil(items.length / n);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Tasks.Metrics for the running ones among `containers`, with one `id==` filter per
 * container as containerd's CRI asks, split over a few concurrent calls. A task that
 * ended meanwhile is simply absent.
 */
export async function taskMetrics(ctx: StatsContext, containers: readonly Container[]): Promise<Map<string, TaskMetrics>> {
  const out = new Map<string, TaskMetrics>();
  const running = containers.filter((c) => c.state === ContainerState.CONTAINER_RUNNING);
  const responses = await Promise.all(
    batches(running).map((batch) =>
      ctx.deps.containerd.tasks.metrics({ filters: batch.map((c) => `id==${c.id}`) }).catch((e) => {
        throw wrap(e, "failed to fetch metrics for tasks");
      }),
    ),
  );
  for (const m of responses.flatMap((r) => r.metrics)) {
    const metrics = decodeCgroupMetrics(m.data);
    if (!metrics) continue;
    out.set(m.id, { metrics, atNs: m.timestamp ? m.timestamp.seconds * 1_000_000_000n + BigInt(m.timestamp.nanos) : nowNs() });
  }
  return out;
}

/** Forgets CPU samples and layer usage of containers and pods that are gone. */
export function forgetTheGone(ctx: StatsContext): void {
  ctx.containerCpu.retain((id) => ctx.containers.exact(id) !== undefined);
  ctx.podCpu.retain((id) => ctx.sandboxes.find(id)?.meta.id === id);
  const live = new Set(ctx.containers.list().map((c) => `${c.record.snapshotter}/${c.record.snapshotKey}`));
  ctx.layers.retain((snapshotter, key) => live.has(`${snapshotter}/${key}`));
}
