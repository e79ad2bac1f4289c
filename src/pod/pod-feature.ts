// The pod feature as the composition root builds it: the sandbox RPCs, recovery at start,
// and the exit handling the monitor routes to it first. A pod's containers are stopped and
// removed through the container feature's API, handed in at build time.
import type { CriDeps } from "../common/deps.js";
import { nothing, type Feature } from "../common/feature.js";
import type { TaskExit } from "../containerd/task-exits.js";
import type { PodContainers, PodState } from "./pod-state.js";
import type { SandboxStore } from "./sandbox-store.js";
import { runPodSandbox } from "./sandbox-run.js";
import { stopPodSandbox } from "./sandbox-stop.js";
import { removePodSandbox } from "./sandbox-remove.js";
import { listPodSandbox, podSandboxStatus } from "./sandbox-status.js";
import { recoverSandboxes } from "./sandbox-recover.js";
import { handleSandboxExit, reconcileSandboxes } from "./sandbox-exits.js";
import { updatePodSandboxResources } from "./sandbox-update-resources.js";

export interface PodUses extends PodState {
  containers: PodContainers;
}

export interface PodApi {
  sandboxes: SandboxStore;
  /** A task exit from the monitor; false when the task is not a pod's pause container. */
  handleExit(e: TaskExit): boolean;
  /** Exits missed while the event stream was down. */
  reconcile(): Promise<void>;
}

export function podFeature(deps: CriDeps, uses: PodUses): Feature<PodApi> {
  const { containers, ...state } = uses;
  return {
    runtime: {
      runPodSandbox: runPodSandbox(deps, state),
      stopPodSandbox: stopPodSandbox(deps, state, containers.stopContainers),
      removePodSandbox: removePodSandbox(deps, state, containers),
      podSandboxStatus: podSandboxStatus(deps, state),
      listPodSandbox: listPodSandbox(deps, state),
      updatePodSandboxResources: updatePodSandboxResources(deps, state),
    },
    image: {},
    /** Rebuilds the sandbox store from containerd; the first recovery at start. */
    start: () => recoverSandboxes(deps, state),
    stop: nothing,
    api: {
      sandboxes: state.sandboxes,
      handleExit: (e) => handleSandboxExit(deps, state, e),
      reconcile: () => reconcileSandboxes(deps, state),
    },
  };
}
