// StartContainer: opens the container's stdio FIFOs and log pump, creates the task on the
// snapshot's mounts and starts it. A failed start leaves the container EXITED with
// containerd's StartError/128 and removes the half-made task.
import { ContainerEventType, ContainerState, type ContainerConfig } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, messageOf, notFound, wrap } from "../errors.js";
import { createFifos, fifoSetIn, type FifoSet } from "../io/fifo.js";
import type { Container } from "./container-store.js";
import type { RuntimeHandlers } from "../common/deps.js";
import { dirsOf, nowNs, type ContainerContext } from "./container-context.js";
import { recordExit } from "./container-exits.js";
import { openContainerIO } from "./container-io.js";
import { deleteTask } from "../containerd/task-ops.js";

export const START_ERROR_EXIT_CODE = 128;
export const START_ERROR_REASON = "StartError";

/** The stdio FIFOs of a container's init process. */
export function containerFifos(ctx: ContainerContext, id: string, config: Pick<ContainerConfig, "stdin" | "tty">): FifoSet {
  return fifoSetIn(dirsOf(ctx, id).io, id, { stdin: config.stdin, terminal: config.tty });
}

async function startTask(ctx: ContainerContext, c: Container): Promise<void> {
  const cd = ctx.deps.containerd;
  const sandbox = ctx.state.sandboxes.find(c.meta.sandboxId);
  if (!sandbox) throw notFound(`sandbox "${c.meta.sandboxId}" not found`);
  if (sandbox.state !== "ready") throw failedPrecondition(`sandbox container "${c.meta.sandboxId}" is not running`);

  const fifos = containerFifos(ctx, c.id, c.meta.config);
  // The snapshot's mounts are asked for while the FIFOs and the log file are opened.
  const mountsCall = cd.snapshots.mounts({ snapshotter: c.record.snapshotter, key: c.record.snapshotKey });
  mountsCall.catch(() => undefined);
  await createFifos(fifos, ctx.fifos);
  const io = await openContainerIO(ctx, c, fifos);
  c.io = io;
  try {
    const { mounts } = await mountsCall;
    c.cgroupMayBeLeft = true;
    await cd.tasks
      .create({ containerId: c.id, rootfs: mounts, stdin: fifos.stdin, stdout: fifos.stdout, stderr: fifos.stderr, terminal: fifos.terminal })
      .catch((e) => {
        throw wrap(e, "failed to create containerd task");
      });
    c.cgroupMayBeLeft = false;
    try {
      const started = await cd.tasks.start({ containerId: c.id });
      // Checkpointed with the end of the start (startContainerNow's updateSync).
      ctx.containers.update(c, (s) => {
        s.pid = started.pid;
        s.startedAt = nowNs();
      });
    } catch (e) {
      // The exit monitor may have deleted it already.
      await deleteTask(cd, c.id).catch((err) => ctx.deps.logger.warn("failed to delete task of a failed start", { containerId: c.id, error: messageOf(err) }));
      throw wrap(e, `failed to start containerd task "${c.id}"`);
    }
    await io.releasePlaceholders();
  } catch (e) {
    io.close();
    c.io = undefined;
    throw e;
  }
}

export async function startContainerNow(ctx: ContainerContext, c: Container): Promise<void> {
  // A never-started task from before a crash is still being deleted: a new one follows it.
  await c.cleanup;
  ctx.containers.setStarting(c);
  try {
    await startTask(ctx, c);
  } catch (e) {
    // EXITED once on disk: `stopped` resolves then.
    await ctx.containers.updateSync(c, (s) => {
      s.pid = 0;
      s.finishedAt = nowNs();
      s.exitCode = START_ERROR_EXIT_CODE;
      s.reason = START_ERROR_REASON;
      s.message = messageOf(e);
      s.starting = false;
    });
    throw e;
  }
  await ctx.containers.updateSync(c, (s) => {
    s.starting = false;
  });
  ctx.state.events?.emit(ContainerEventType.CONTAINER_STARTED_EVENT, c.id, c.meta.sandboxId);
  // An exit reported while the start was under way (a process that ends at once).
  const early = c.pendingExit;
  c.pendingExit = undefined;
  if (early && c.state === ContainerState.CONTAINER_RUNNING) {
    recordExit(ctx, c, early).catch((e) => ctx.deps.logger.warn("failed to record container exit", { containerId: c.id, error: messageOf(e) }));
  }
}

export function startContainer(ctx: ContainerContext): RuntimeHandlers["startContainer"] {
  return async (req) => {
    const c = ctx.containers.get(req.containerId);
    await startContainerNow(ctx, c).catch((e) => {
      throw wrap(e, `failed to start container "${c.id}"`);
    });
    return {};
  };
}
