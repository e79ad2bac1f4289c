// What the metrics endpoint reads on a scrape, taken from the stores and the puller.
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import type { PullCounters } from "../image/image-feature.js";
import type { ContainerStore } from "../container/container-store.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import type { MetricSources } from "./crib-metrics.js";

const CONTAINER_STATE_LABEL: Record<ContainerState, string> = {
  [ContainerState.CONTAINER_CREATED]: "created",
  [ContainerState.CONTAINER_RUNNING]: "running",
  [ContainerState.CONTAINER_EXITED]: "exited",
  [ContainerState.CONTAINER_UNKNOWN]: "unknown",
};

export function metricSources(sandboxes: SandboxStore, containers: ContainerStore, puller: PullCounters): MetricSources {
  return {
    podStates: () => sandboxes.list().map((s) => s.state),
    containerStates: () => containers.list().map((c) => CONTAINER_STATE_LABEL[c.state]),
    pullsInFlight: () => puller.transfersRunning,
    bytesPulled: () => puller.bytesPulled,
  };
}
