// ContainerStats and ListContainerStats (containerd's container_stats.go and
// container_stats_list.go): one Tasks.Metrics call for every running container asked
// about, decoded by cgroup version; usage_nano_cores from the previous sample; the
// writable layer from Snapshots.Usage (refreshed in the background, see
// stats/writable-layer.ts). A container without a task (created, exited) is reported with
// its attributes and writable layer only.
import type { ContainerStatsFilter } from "../gen/runtime/v1/api_pb.js";
import type { Container } from "../container/container-store.js";
import { sampleOf } from "./cgroup-sample.js";
import { criContainerStats, criWritableLayer, type ContainerStatsInit } from "./cri-stats.js";
import { mapLimit } from "../common/map-limit.js";
import { matchesFilter } from "../container/container-list.js";
import type { RuntimeHandlers } from "../common/deps.js";
import { forgetTheGone, taskMetrics, type StatsContext, type TaskMetrics } from "./stats-context.js";

/** Snapshots.Usage calls in flight at once on a first request. */
const LAYER_CONCURRENCY = 8;

export async function statsOfContainers(ctx: StatsContext, containers: readonly Container[], metrics: Map<string, TaskMetrics>): Promise<Map<string, ContainerStatsInit>> {
  const out = new Map<string, ContainerStatsInit>();
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  await mapLimit(containers, LAYER_CONCURRENCY, async (c) => {
    const layer = await ctx.layers.get(c.record.snapshotter, c.record.snapshotKey);
    const config = c.meta.config;
    const m = metrics.get(c.id);
    let sample: Parameters<typeof criContainerStats>[0]["sample"];
    if (m) {
      const s = sampleOf(m.metrics);
      const nanoCores = s.cpuUsageNs === undefined ? undefined : ctx.containerCpu.rate(c.id, { usageNs: s.cpuUsageNs, atNs: m.atNs });
      sample = { sample: s, atNs: m.atNs, nanoCores };
    }
    out.set(
      c.id,
      criContainerStats({
        attributes: { id: c.id, metadata: config.metadata, labels: config.labels, annotations: config.annotations },
        ...(sample ? { sample } : {}),
        writableLayer: criWritableLayer(layer, ctx.imageFsMountpoint, nowNs),
      }),
    );
  });
  return out;
}

/** Stats of the given containers, in their order. */
export async function collectContainerStats(ctx: StatsContext, containers: readonly Container[]): Promise<ContainerStatsInit[]> {
  const byId = await statsOfContainers(ctx, containers, await taskMetrics(ctx, containers));
  return containers.flatMap((c) => byId.get(c.id) ?? []);
}

/** The containers a stats filter selects; ids and pod ids may be unique prefixes (containerd's normalize). */
export function containersForStats(ctx: StatsContext, f: ContainerStatsFilter | undefined): Container[] {
  const all = ctx.containers.list();
  if (!f) return all;
  const resolved = {
    id: f.id === "" ? "" : (ctx.containers.find(f.id)?.id ?? f.id),
    podSandboxId: f.podSandboxId === "" ? "" : (ctx.sandboxes.find(f.podSandboxId)?.meta.id ?? f.podSandboxId),
    state: undefined,
    labelSelector: f.labelSelector,
  };
  return all.filter((c) => matchesFilter(c, resolved));
}

export function containerStats(ctx: StatsContext): RuntimeHandlers["containerStats"] {
  return async (req) => {
    const c = ctx.containers.get(req.containerId);
    const [stats] = await collectContainerStats(ctx, [c]);
    return { stats };
  };
}

export function listContainerStats(ctx: StatsContext): RuntimeHandlers["listContainerStats"] {
  return async (req) => {
    const stats = await collectContainerStats(ctx, containersForStats(ctx, req.filter));
    forgetTheGone(ctx);
    return { stats };
  };
}
