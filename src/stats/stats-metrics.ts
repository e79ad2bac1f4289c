// ListMetricDescriptors and ListPodSandboxMetrics: cAdvisor-style metrics (the kubelet's
// /metrics/cadvisor when it takes them from the runtime) for every ready pod: the pod's
// network counters from /proc/<pause pid>/net/dev, and for each running container its
// cgroup's CPU, memory, OOM and process numbers (one Tasks.Metrics call for all of them),
// its writable layer and what its spec grants.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PodSandboxMetricsSchema } from "../gen/runtime/v1/api_pb.js";
import type { Container } from "../container/container-store.js";
import type { Sandbox } from "../pod/sandbox-store.js";
import { addCgroupMetrics, addNetworkMetrics, addSpecMetrics, metricDescriptors, MetricSet } from "./cadvisor-metrics.js";
import { readNetDev } from "./net-dev.js";
import { mapLimit } from "../common/map-limit.js";
import type { RuntimeHandlers } from "../common/deps.js";
import { taskMetrics, type StatsContext, type TaskMetrics } from "./stats-context.js";

type PodMetricsInit = MessageInitShape<typeof PodSandboxMetricsSchema>;

const POD_CONCURRENCY = 8;
const NS_PER_S = 1_000_000_000n;

async function containerMetrics(ctx: StatsContext, s: Sandbox, c: Container, m: TaskMetrics) {
  const md = s.meta.config.metadata;
  const set = new MetricSet(
    { container: c.meta.config.metadata?.name ?? "", id: c.id, image: c.meta.config.image?.image ?? "", name: c.meta.name, namespace: md?.namespace ?? "", pod: md?.name ?? "" },
    m.atNs,
  );
  set.add("container_last_seen", m.atNs / NS_PER_S);
  set.add("container_start_time_seconds", c.status.startedAt / NS_PER_S);
  addCgroupMetrics(set, m.metrics);
  addSpecMetrics(set, c.record.spec);
  const layer = await ctx.layers.get(c.record.snapshotter, c.record.snapshotKey);
  if (layer) {
    set.add("container_fs_usage_bytes", layer.usedBytes, [ctx.imageFsMountpoint]);
    set.add("container_fs_inodes_total", layer.inodesUsed, [ctx.imageFsMountpoint]);
  }
  return { containerId: c.id, metrics: set.metrics };
}

async function podMetrics(ctx: StatsContext, s: Sandbox, containers: readonly Container[], metrics: Map<string, TaskMetrics>): Promise<PodMetricsInit> {
  const md = s.meta.config.metadata;
  const atNs = BigInt(Date.now()) * 1_000_000n;
  const pod = new MetricSet({ container: "", id: s.meta.id, image: "", name: s.meta.name, namespace: md?.namespace ?? "", pod: md?.name ?? "" }, atNs);
  if (s.meta.netnsPath && s.pid > 0) {
    const ifaces = await readNetDev(s.pid).catch(() => undefined);
    if (ifaces) addNetworkMetrics(pod, ifaces);
  }
  const containerMetricsList = [];
  for (const c of containers) {
    const m = metrics.get(c.id);
    if (m) containerMetricsList.push(await containerMetrics(ctx, s, c, m));
  }
  return { podSandboxId: s.meta.id, metrics: pod.metrics, containerMetrics: containerMetricsList };
}

export function listMetricDescriptors(): RuntimeHandlers["listMetricDescriptors"] {
  const descriptors = metricDescriptors();
  return async () => ({ descriptors });
}

export function listPodSandboxMetrics(ctx: StatsContext): RuntimeHandlers["listPodSandboxMetrics"] {
  return async () => {
    const sandboxes = ctx.sandboxes.list().filter((s) => s.state === "ready");
    const byPod = new Map<string, Container[]>(sandboxes.map((s) => [s.meta.id, []]));
    for (const c of ctx.containers.list()) byPod.get(c.meta.sandboxId)?.push(c);
    const metrics = await taskMetrics(ctx, [...byPod.values()].flat());
    const out = new Map<string, PodMetricsInit>();
    await mapLimit(sandboxes, POD_CONCURRENCY, async (s) => out.set(s.meta.id, await podMetrics(ctx, s, byPod.get(s.meta.id)!, metrics)));
    return { podMetrics: sandboxes.flatMap((s) => out.get(s.meta.id) ?? []) };
  };
}
