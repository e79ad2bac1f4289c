// The stats feature as the composition root builds it: the container and pod stats RPCs
// and the cAdvisor-style metrics RPCs, over one shared StatsContext.
import type { CriDeps } from "../common/deps.js";
import { nothing, type Feature } from "../common/feature.js";
import type { ContainerStore } from "../container/container-store.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import { newStatsContext } from "./stats-context.js";
import { containerStats, listContainerStats } from "./stats-container.js";
import { listPodSandboxStats, podSandboxStats } from "./stats-pod.js";
import { listMetricDescriptors, listPodSandboxMetrics } from "./stats-metrics.js";

export interface StatsUses {
  sandboxes: SandboxStore;
  containers: ContainerStore;
  /** Where the writable layers live (the snapshotter's root): FilesystemUsage.fs_id. */
  imageFsMountpoint: string;
}

export async function statsFeature(deps: CriDeps, uses: StatsUses): Promise<Feature> {
  const ctx = await newStatsContext(deps, uses.sandboxes, uses.containers, uses.imageFsMountpoint);
  return {
    runtime: {
      containerStats: containerStats(ctx),
      listContainerStats: listContainerStats(ctx),
      podSandboxStats: podSandboxStats(ctx),
      listPodSandboxStats: listPodSandboxStats(ctx),
      listMetricDescriptors: listMetricDescriptors(),
      listPodSandboxMetrics: listPodSandboxMetrics(ctx),
    },
    image: {},
    start: nothing,
    stop: nothing,
    api: undefined,
  };
}
