// The stats side of crib as the server wires it: the container and pod stats RPCs and the
// cAdvisor-style metrics RPCs, over one shared StatsContext.
import type { ContainerStore } from "../container/container-store.js";
import type { CriDeps, RuntimeHandlers, RuntimeState } from "../common/deps.js";
import { newStatsContext, type StatsContext } from "./stats-context.js";
import { containerStats, listContainerStats } from "./stats-container.js";
import { listPodSandboxStats, podSandboxStats } from "./stats-pod.js";
import { listMetricDescriptors, listPodSandboxMetrics } from "./stats-metrics.js";

type StatsRpc = "containerStats" | "listContainerStats" | "podSandboxStats" | "listPodSandboxStats" | "listMetricDescriptors" | "listPodSandboxMetrics";

export class StatsService {
  private constructor(readonly ctx: StatsContext) {}

  static async start(deps: CriDeps, state: RuntimeState, containers: ContainerStore, imageFsMountpoint: string): Promise<StatsService> {
    return new StatsService(await newStatsContext(deps, state, containers, imageFsMountpoint));
  }

  handlers(): Pick<RuntimeHandlers, StatsRpc> {
    const ctx = this.ctx;
    return {
      containerStats: containerStats(ctx),
      listContainerStats: listContainerStats(ctx),
      podSandboxStats: podSandboxStats(ctx),
      listPodSandboxStats: listPodSandboxStats(ctx),
      listMetricDescriptors: listMetricDescriptors(),
      listPodSandboxMetrics: listPodSandboxMetrics(ctx),
    };
  }
}
