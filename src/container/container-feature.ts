// The container feature as the composition root builds it: the container RPCs, recovery at
// start, and the API the features above use: the pod feature stops and removes a pod's
// containers through it, the exit monitor routes container exits and OOMs to it, and
// stats, streaming, events, metrics and checkpoint read the container store.
import { messageOf } from "../errors.js";
import type { TaskExit } from "../containerd/task-exits.js";
import type { CriDeps } from "../common/deps.js";
import type { Feature } from "../common/feature.js";
import { newContainerContext, type ContainerUses } from "./container-context.js";
import type { ContainerStore } from "./container-store.js";
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
import { holdCreatedOutputs, releaseInterruptedCreates, type HeldOutputs } from "./interrupted-create.js";

export interface ContainerApi {
  /** The containers, for the readers above (stats, streaming, events, metrics, checkpoint). */
  containers: ContainerStore;
  /** StopPodSandbox's step: force-stops every container of the pod. */
  stopContainers(sandboxId: string): Promise<void>;
  /** RemovePodSandbox's step: removes every container of the pod. */
  removeContainers(sandboxId: string): Promise<void>;
  /**
   * At start-up, before the pods are recovered (before any call reaches a shim): opens the
   * output FIFOs of never-started containers, so that a shim a crash left waiting in
   * Tasks.Create goes on (interrupted-create.ts); start() closes them.
   */
  releaseInterruptedCreates(): Promise<void>;
  /** A task exit from the monitor; false when the task is not one of crib's containers. */
  handleExit(e: TaskExit): boolean;
  handleOOM(containerId: string): boolean;
  /** Exits missed while the event stream was down. */
  reconcile(): Promise<void>;
}

export function containerFeature(deps: CriDeps, uses: ContainerUses): Feature<ContainerApi> {
  const ctx = newContainerContext(deps, uses);
  let held: HeldOutputs | undefined;
  /** Interrupted Creates whose shim is still deleting the task, by container id. */
  let releasing = new Map<string, Promise<void>>();
  return {
    runtime: {
      createContainer: createContainer(ctx),
      startContainer: startContainer(ctx),
      stopContainer: stopContainer(ctx),
      removeContainer: removeContainer(ctx),
      listContainers: listContainers(ctx),
      containerStatus: containerStatus(ctx),
      updateContainerResources: updateContainerResources(ctx),
      reopenContainerLog: reopenContainerLog(ctx),
      execSync: execSync(ctx),
    },
    image: {},
    /** Rebuilds the store from containerd; run after the sandboxes are recovered and before exits are watched. */
    async start() {
      await ctx.fifos.start();
      try {
        await recoverContainers(ctx, held?.checkpoints);
        // Start and Remove of such a container wait until the shim let go of the old task.
        for (const [id, done] of releasing) {
          const c = ctx.containers.exact(id);
          if (c) c.cleanup = Promise.all([c.cleanup, done]).then(() => undefined);
        }
      } finally {
        await held?.close();
        held = undefined;
        releasing = new Map();
      }
    },
    /**
     * Shutdown: stop reading the FIFOs (the shim keeps them open, so output waits in the
     * pipes for the next start) and flush what was already read.
     */
    async stop() {
      const pending: Promise<void>[] = [];
      for (const c of ctx.containers.list()) {
        const io = c.io;
        if (!io) continue;
        io.close();
        pending.push(io.done);
      }
      await Promise.all(pending);
      await ctx.fifos.stop();
    },
    api: {
      containers: ctx.containers,
      async stopContainers(sandboxId) {
        const errors: string[] = [];
        await mapLimit(ctx.containers.listBySandbox(sandboxId), 8, (c) =>
          stopContainerNow(ctx, c, 0).catch((e) => errors.push(`failed to stop container "${c.id}": ${messageOf(e)}`)),
        );
        if (errors.length > 0) throw new Error(errors.join("; "));
      },
      async removeContainers(sandboxId) {
        const errors: string[] = [];
        await mapLimit(ctx.containers.listBySandbox(sandboxId), 8, (c) =>
          removeContainerNow(ctx, c).catch((e) => errors.push(`failed to remove container "${c.id}": ${messageOf(e)}`)),
        );
        if (errors.length > 0) throw new Error(errors.join("; "));
      },
      async releaseInterruptedCreates() {
        held = await holdCreatedOutputs(deps.config.rootDir, deps.config.stateDir);
        if (held.count > 0) deps.logger.debug("holding the output FIFOs of never-started containers open", { fifos: held.count });
        releasing = await releaseInterruptedCreates(deps, held);
      },
      handleExit: (e) => handleContainerExit(ctx, e),
      handleOOM: (id) => handleContainerOOM(ctx, id),
      reconcile: () => reconcileContainers(ctx),
    },
  };
}
