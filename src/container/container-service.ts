// The container side of crib as the server wires it: the container RPCs, the exit and OOM
// handlers the task exit monitor routes to, recovery at start, the hooks the pod RPCs use
// to stop and remove a pod's containers, and shutdown.
import { messageOf } from "../errors.js";
import type { TaskExit } from "../containerd/task-exits.js";
import type { CriDeps, RuntimeHandlers, RuntimeState } from "../common/deps.js";
import { newContainerContext, type ContainerContext } from "./container-context.js";
import { createContainer } from "./container-create.js";
import { execSync } from "./container-exec-sync.js";
import { handleContainerExit, handleContainerOOM, reconcileContainers } from "./container-exits.js";
import { mapLimit } from "../common/map-limit.js";
import { listContainers } from "./container-list.js";
import { recoverContainers } from "./container-recover.js";
import { removeContainer, removeContainerNow } from "./container-remove.js";
import { reopenContainerLog } from "./container-reopen-log.js";
import { startContainer } from "./container-start.js";
import { containerStatus } from "./container-status.js";
import { stopContainer, stopContainerNow } from "./container-stop.js";
import { updateContainerResources } from "./container-update.js";

type ContainerRpc =
  | "createContainer"
  | "startContainer"
  | "stopContainer"
  | "removeContainer"
  | "listContainers"
  | "containerStatus"
  | "updateContainerResources"
  | "reopenContainerLog"
  | "execSync";

export class ContainerService {
  readonly ctx: ContainerContext;

  constructor(deps: CriDeps, state: RuntimeState) {
    this.ctx = newContainerContext(deps, state);
  }

  handlers(): Pick<RuntimeHandlers, ContainerRpc> {
    const ctx = this.ctx;
    return {
      createContainer: createContainer(ctx),
      startContainer: startContainer(ctx),
      stopContainer: stopContainer(ctx),
      removeContainer: removeContainer(ctx),
      listContainers: listContainers(ctx),
      containerStatus: containerStatus(ctx),
      updateContainerResources: updateContainerResources(ctx),
      reopenContainerLog: reopenContainerLog(ctx),
      execSync: execSync(ctx),
    };
  }

  /** Rebuilds the store from containerd; run after the sandboxes are recovered and before exits are watched. */
  async recover(): Promise<void> {
    await this.ctx.fifos.start();
    await recoverContainers(this.ctx);
  }

  /** A task exit from the monitor; false when the task is not one of crib's containers. */
  handleContainerExit(e: TaskExit): boolean {
    return handleContainerExit(this.ctx, e);
  }

  handleContainerOOM(containerId: string): boolean {
    return handleContainerOOM(this.ctx, containerId);
  }

  /** Exits missed while the event stream was down. */
  reconcileContainers(): Promise<void> {
    return reconcileContainers(this.ctx);
  }

  /** StopPodSandbox's hook: force-stops every container of the pod. */
  stopContainers = async (sandboxId: string): Promise<void> => {
    const errors: string[] = [];
    await mapLimit(this.ctx.containers.listBySandbox(sandboxId), 8, (c) =>
      stopContainerNow(this.ctx, c, 0).catch((e) => errors.push(`failed to stop container "${c.id}": ${messageOf(e)}`)),
    );
    if (errors.length > 0) throw new Error(errors.join("; "));
  };

  /** RemovePodSandbox's hook: removes every container of the pod. */
  removeContainers = async (sandboxId: string): Promise<void> => {
    const errors: string[] = [];
    await mapLimit(this.ctx.containers.listBySandbox(sandboxId), 8, (c) =>
      removeContainerNow(this.ctx, c).catch((e) => errors.push(`failed to remove container "${c.id}": ${messageOf(e)}`)),
    );
    if (errors.length > 0) throw new Error(errors.join("; "));
  };

  /**
   * Shutdown: stop reading the FIFOs (the shim keeps them open, so output waits in the
   * pipes for the next start) and flush what was already read.
   */
  async stop(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const c of this.ctx.containers.list()) {
      const io = c.io;
      if (!io) continue;
      io.close();
      pending.push(io.done);
    }
    await Promise.all(pending);
    await this.ctx.fifos.stop();
  }
}
