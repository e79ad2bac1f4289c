// RemoveContainer: force-stops a running container, then deletes its task, containerd
// container, snapshot, status checkpoint and FIFOs. The CRI log file stays (the kubelet
// owns and rotates it). Removing an unknown id succeeds, as in containerd's CRI.
import { ContainerEventType, ContainerState } from "../gen/runtime/v1/api_pb.js";
import { wrap } from "../errors.js";
import type { Container } from "./container-store.js";
import type { RuntimeHandlers } from "../common/deps.js";
import { dirsOf, type ContainerContext } from "./container-context.js";
import { stopContainerNow } from "./container-stop.js";
import { deleteContainerAndSnapshot, deleteTask } from "../containerd/task-ops.js";
import { removeCgroupLeftovers } from "../common/cgroup-leftovers.js";
import { removeKnownTree } from "../io/remove-tree.js";
import { fifoPaths } from "../io/fifo.js";
import { statusPath } from "./container-metadata.js";
import { containerFifos } from "./container-start.js";

export async function removeContainerNow(ctx: ContainerContext, c: Container): Promise<void> {
  await c.cleanup;
  const state = c.state;
  if (state === ContainerState.CONTAINER_RUNNING || state === ContainerState.CONTAINER_UNKNOWN) {
    await stopContainerNow(ctx, c, 0).catch((e) => {
      throw wrap(e, `failed to forcibly stop container "${c.id}"`);
    });
  }
  ctx.containers.setRemoving(c);
  try {
    c.io?.close();
    c.io = undefined;
    // A recorded exit already deleted the task; one that never started has none.
    if (!c.exiting && c.status.startedAt !== 0n) await deleteTask(ctx.deps.containerd, c.id);
    const dirs = dirsOf(ctx, c.id);
    // With the task gone, the rest is independent and runs at once: the containerd calls
    // need not wait for the cgroup and file system work.
    await Promise.all([
      // A start cut short by a crash can leave the cgroup runc began (see cgroup-leftovers.ts);
      // one this crib created and started or never started has none (ten failing rmdirs on
      // cgroup v1 per RemoveContainer otherwise).
      c.cgroupMayBeLeft ? removeCgroupLeftovers(c.record.spec.linux?.cgroupsPath, ctx.deps.logger, { containerId: c.id }) : undefined,
      deleteContainerAndSnapshot(ctx.deps.containerd, c.id, c.record.snapshotter, c.record.snapshotKey),
      removeKnownTree(dirs.root, { files: [statusPath(dirs.root)], dirs: [] }).catch((e) => {
        throw wrap(e, `failed to remove container root directory "${dirs.root}"`);
      }),
      removeKnownTree(dirs.volatile, { files: fifoPaths(containerFifos(ctx, c.id, c.meta.config)), dirs: [dirs.io] }).catch((e) => {
        throw wrap(e, `failed to remove volatile container root directory "${dirs.volatile}"`);
      }),
    ]);
  } catch (e) {
    ctx.containers.update(c, (s) => {
      s.removing = false;
    });
    throw e;
  }
  ctx.containers.delete(c.id);
  ctx.state.events?.emit(ContainerEventType.CONTAINER_DELETED_EVENT, c.id, c.meta.sandboxId);
}

export function removeContainer(ctx: ContainerContext): RuntimeHandlers["removeContainer"] {
  return async (req) => {
    const c = ctx.containers.find(req.containerId);
    if (!c) return {};
    await removeContainerNow(ctx, c);
    return {};
  };
}
