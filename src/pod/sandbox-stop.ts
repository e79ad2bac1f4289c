// StopPodSandbox: stop the pod's containers, the pause task, and tear down its network.
// Idempotent: a stopped or half torn-down pod stops again without error, and a missing
// netns is fine. (kubelet calls StopPodSandbox at least once before RemovePodSandbox.)
// An unknown or already removed id answers OK: api.proto says stop "must not return an error
// if all relevant resources have already been reclaimed", and the kubelet stops pods it only
// remembers (containerd's CRI does the same).
import type { Containerd } from "../containerd/client.js";
import { ContainerEventType } from "../gen/runtime/v1/api_pb.js";
import { wrap } from "../errors.js";
import { netnsExists, removeNetns } from "../network/netns.js";
import type { Sandbox } from "./sandbox-store.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import type { PodState } from "./pod-state.js";
import { detachPodNetwork } from "./sandbox-network.js";
import { isHostIpc, sandboxPaths, unmountSandboxShm } from "./sandbox-files.js";
import { deleteTask, stopTask } from "../containerd/task-ops.js";

const SIGTERM = 15;
/** The pause process exits on SIGTERM at once; this only bounds a stuck one. */
const PAUSE_GRACE_MS = 2000;

/** Hook for the container side: stops every container of a sandbox (set once containers exist). */
export type StopSandboxContainers = (sandboxId: string) => Promise<void>;

export async function stopSandbox(deps: CriDeps, state: PodState, s: Sandbox, stopContainers: StopSandboxContainers): Promise<void> {
  const cd: Containerd = deps.containerd;
  const id = s.meta.id;
  await stopContainers(id);
  state.sandboxes.update(s, (st) => {
    st.stopping = true;
  });
  try {
    if (s.state === "ready" || s.state === "unknown") {
      await stopTask(cd, id, SIGTERM, PAUSE_GRACE_MS).catch((e) => {
        throw wrap(e, `failed to stop sandbox container "${id}"`);
      });
    }
    const task = async () => {
      await deleteTask(cd, id);
      // The exit handler usually got there first and sent the event; else it is sent here.
      if (state.sandboxes.setNotReady(s)) state.events?.emit(ContainerEventType.CONTAINER_STOPPED_EVENT, id, id);
    };
    const network = async () => {
      if (!s.meta.netnsPath) return;
      if (await netnsExists(s.meta.netnsPath)) {
        await detachPodNetwork(deps.config, s.meta).catch((e) => {
          throw wrap(e, `failed to destroy network for sandbox "${id}"`);
        });
      }
      await removeNetns(s.meta.netnsPath);
    };
    const paths = sandboxPaths(deps.config.rootDir, deps.config.stateDir, id, isHostIpc(s.meta.config));
    // With the pause process gone, the task's delete (the shim's clean-up), the network
    // teardown (CNI DEL and the netns unmount: the pinned netns does not need the pause)
    // and the shm unmount run at once; containerd's CRI deletes the task first. All settle
    // before an error is reported; a retried stop repeats what failed.
    const [del, net] = await Promise.allSettled([task(), network(), unmountSandboxShm(paths)]);
    if (del.status === "rejected") throw del.reason;
    if (net.status === "rejected") throw net.reason;
  } finally {
    state.sandboxes.update(s, (st) => {
      st.stopping = false;
    });
  }
}

export function stopPodSandbox(deps: CriDeps, state: PodState, stopContainers: StopSandboxContainers): RuntimeHandlers["stopPodSandbox"] {
  return async (req) => {
    const s = state.sandboxes.find(req.podSandboxId);
    if (!s) return {};
    await stopSandbox(deps, state, s, stopContainers);
    return {};
  };
}
