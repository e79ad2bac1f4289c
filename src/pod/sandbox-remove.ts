// RemovePodSandbox: force-remove the pod's containers, then everything RunPodSandbox made.
// Removing an unknown id succeeds (idempotent), as in containerd's CRI.
import { ContainerEventType } from "../gen/runtime/v1/api_pb.js";
import { isNotFound, wrap } from "../errors.js";
import type { Sandbox } from "./sandbox-store.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import type { PodContainers, PodState } from "./pod-state.js";
import { cleanupSandboxFiles, isHostIpc, sandboxPaths } from "./sandbox-files.js";
import { stopSandbox } from "./sandbox-stop.js";
import { sandboxStatusOf } from "./sandbox-status.js";
import { deleteContainerAndSnapshot } from "../containerd/task-ops.js";
import { removeCgroupLeftovers } from "../common/cgroup-leftovers.js";
import { cgroupsPath } from "../oci/resources.js";

export async function removeSandbox(
  deps: CriDeps,
  state: PodState,
  s: Sandbox,
  containers: PodContainers,
): Promise<void> {
  const id = s.meta.id;
  // Stop first: the pod may still be ready when the kubelet gave up on stopping it.
  await stopSandbox(deps, state, s, containers.stopContainers);
  await containers.removeContainers(id);
  // The pause's cgroup, when a crash cut its Tasks.Create short (see cgroup-leftovers.ts).
  const parent = s.meta.config.linux?.cgroupParent;
  await removeCgroupLeftovers(parent ? cgroupsPath(parent, id) : `/${deps.config.namespace}/${id}`, deps.logger, { podSandboxId: id });
  await deleteContainerAndSnapshot(deps.containerd, id, deps.config.snapshotter, id);
  if (deps.capabilities.sandboxStore) {
    await deps.containerd.sandboxStore.delete({ sandboxId: id }).catch((e) => {
      if (!isNotFound(e)) throw wrap(e, `failed to delete sandbox "${id}" from the sandbox store`);
    });
  }
  await cleanupSandboxFiles(sandboxPaths(deps.config.rootDir, deps.config.stateDir, id, isHostIpc(s.meta.config)));
  const lastStatus = sandboxStatusOf(s);
  state.sandboxes.delete(id);
  // The kubelet drops the pod from its cache on this event, by the sandbox status it carries.
  state.events?.emit(ContainerEventType.CONTAINER_DELETED_EVENT, id, id, lastStatus);
}

export function removePodSandbox(
  deps: CriDeps,
  state: PodState,
  containers: PodContainers,
): RuntimeHandlers["removePodSandbox"] {
  return async (req) => {
    const s = state.sandboxes.find(req.podSandboxId);
    if (!s) return {};
    await removeSandbox(deps, state, s, containers);
    return {};
  };
}
