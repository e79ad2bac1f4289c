// ContainerStats and ListContainerStats (containerd's container_stats.go and
// container_stats_list.go): one Tasks.Metrics call for every running container asked
// about, decoded by cgroup version; usage_nano_cores from the previous sample; the
// writable layer from Snapshots.Usage (refreshed in the background, see
// stats/writable-layer.ts). A container without a task (created, exited) is reported with
// its attributes and writable layer only.
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import {
  ContainerAttributesSchema,
  ContainerStatsResponseSchema,
  ListContainerStatsResponseSchema,
  type ContainerStatsFilter,
} from "../gen/runtime/v1/api_pb.js";
import type { Container } from "../container/container-store.js";
import { sampleOf } from "./cgroup-sample.js";
import { criContainerStats, criWritableLayer, type ContainerStatsInit } from "./cri-stats.js";
import type { LayerUsage } from "./writable-layer.js";
import { matchesFilter } from "../container/container-list.js";
import type { RuntimeHandlers } from "../common/deps.js";
import { writeContainerStats } from "./stats-wire.js";
import { WireOut } from "../rpc/wire-out.js";
import { EncodedReply } from "../rpc/proto-service.js";
import { forgetTheGone, taskMetrics, type StatsContext, type TaskMetrics } from "./stats-context.js";

export async function statsOfContainers(ctx: StatsContext, containers: readonly Container[], metrics: Map<string, TaskMetrics>): Promise<Map<string, ContainerStatsInit>> {
  const out = new Map<string, ContainerStatsInit>();
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  // Known layer usages come back at once; only layers never measured are waited for.
  const known = containers.map((c) => ctx.layers.get(c.record.snapshotter, c.record.snapshotKey));
  const layers = known.some((l) => l instanceof Promise) ? await Promise.all(known) : (known as (LayerUsage | undefined)[]);
  containers.forEach((c, i) => {
    const layer = layers[i];
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

/** A container's ContainerAttributes as encoded on the wire: they never change, so they are encoded once. */
const encodedAttributes = new WeakMap<Container["meta"], Uint8Array>();

function attributesOf(c: Container, stats: ContainerStatsInit): Uint8Array {
  let data = encodedAttributes.get(c.meta);
  if (!data) encodedAttributes.set(c.meta, (data = toBinary(ContainerAttributesSchema, create(ContainerAttributesSchema, stats.attributes))));
  return data;
}

/**
 * A reply whose field 1 holds the stats of the given containers, in their order, written
 * by hand (src/stats/stats-wire.ts): ContainerStatsResponse's `stats` and
 * ListContainerStatsResponse's repeated `stats` are both field 1.
 */
async function encodedStatsReply<D extends DescMessage>(ctx: StatsContext, schema: D, containers: readonly Container[]): Promise<EncodedReply<D>> {
  const byId = await statsOfContainers(ctx, containers, await taskMetrics(ctx, containers));
  const w = new WireOut();
  for (const c of containers) {
    const s = byId.get(c.id);
    if (s) writeContainerStats(w, 1, attributesOf(c, s), s);
  }
  return new EncodedReply(schema, w.finish());
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
    return encodedStatsReply(ctx, ContainerStatsResponseSchema, [c]);
  };
}

export function listContainerStats(ctx: StatsContext): RuntimeHandlers["listContainerStats"] {
  return async (req) => {
    const reply = await encodedStatsReply(ctx, ListContainerStatsResponseSchema, containersForStats(ctx, req.filter));
    forgetTheGone(ctx);
    return reply;
  };
}
