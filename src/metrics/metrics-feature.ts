// The metrics feature as the composition root builds it: the Prometheus endpoint when
// metrics_address is set (start-metrics.ts), reading the stores and the puller on a scrape.
// It serves no CRI RPC; the instrumented wrapper feeds its observeRpc.
import type { CriDeps } from "../common/deps.js";
import { nothing, type Feature } from "../common/feature.js";
import type { ContainerStore } from "../container/container-store.js";
import type { PullCounters } from "../image/image-feature.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import { metricSources } from "./metric-sources.js";
import { startMetrics, type RunningMetrics } from "./start-metrics.js";

export interface MetricsUses {
  sandboxes: SandboxStore;
  containers: ContainerStore;
  puller: PullCounters;
}

/** api: the running endpoint, undefined when metrics are off. */
export async function metricsFeature(deps: CriDeps, uses: MetricsUses): Promise<Feature<RunningMetrics | undefined>> {
  const metrics = await startMetrics(deps, metricSources(uses.sandboxes, uses.containers, uses.puller));
  return {
    runtime: {},
    image: {},
    start: nothing,
    stop: async () => metrics?.stop(),
    api: metrics,
  };
}
