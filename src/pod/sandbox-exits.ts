// What a pause task's exit means: the pod is NOTREADY, and its task is deleted so the
// shim goes away (containerd's handleSandboxExit). Reconcile catches exits missed while
// the event stream was down.
import { ContainerEventType } from "../gen/runtime/v1/api_pb.js";
import { messageOf } from "../errors.js";
import type { TaskExit } from "../containerd/task-exits.js";
import type { CriDeps } from "../common/deps.js";
import type { PodState } from "./pod-state.js";
import { runningPid } from "./sandbox-recover.js";
import { deleteTask } from "../containerd/task-ops.js";

export function handleSandboxExit(deps: CriDeps, state: PodState, e: TaskExit): boolean {
  const s = state.sandboxes.find(e.containerId);
  if (!s || s.meta.id !== e.containerId || e.processId !== e.containerId) return false;
  if (state.sandboxes.setNotReady(s)) state.events?.emit(ContainerEventType.CONTAINER_STOPPED_EVENT, s.meta.id, s.meta.id);
  if (!s.stopping) {
    deleteTask(deps.containerd, s.meta.id).catch((err) =>
      deps.logger.warn("failed to delete exited sandbox task", { podSandboxId: s.meta.id, error: messageOf(err) }),
    );
  }
  return true;
}

export async function reconcileSandboxes(deps: CriDeps, state: PodState): Promise<void> {
  for (const s of state.sandboxes.list()) {
    if (s.state !== "ready" || s.stopping) continue;
    if ((await runningPid(deps, s.meta.id)) === 0 && s.state === "ready") {
      state.sandboxes.setNotReady(s);
      state.events?.emit(ContainerEventType.CONTAINER_STOPPED_EVENT, s.meta.id, s.meta.id);
    }
  }
}
