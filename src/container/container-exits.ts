// What a container's exit means (containerd's handleContainerExit): the task is deleted
// (the shim then has finished writing the output), the log pump drains what is left in the
// pipe, and the exit code and time are recorded and checkpointed. Exits come from the one
// events subscription; a reconcile after every (re)subscription, and Stop when it waits
// too long, ask containerd directly so that none is missed.
import { ContainerEventType, ContainerState } from "../gen/runtime/v1/api_pb.js";
import { Status as TaskStatus } from "../gen/github.com/containerd/containerd/api/types/task/task_pb.js";
import { isNotFound, messageOf } from "../errors.js";
import type { TaskExit } from "../containerd/task-exits.js";
import type { Container, ExitInfo } from "./container-store.js";
import { nowNs, timestampNs } from "../clock.js";
import type { ContainerContext } from "./container-context.js";
import { deleteTask } from "../containerd/task-ops.js";
import { mapLimit } from "../common/map-limit.js";

/** Exit code and reason of a container whose task vanished while crib was not watching. */
export const UNKNOWN_EXIT_CODE = 255;
export const UNKNOWN_EXIT_REASON = "Unknown";
export const OOM_EXIT_REASON = "OOMKilled";
/** How long the log pump may take to drain the pipe once the shim is done with it. */
const OUTPUT_DRAIN_MS = 2000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Records a container's exit once; later reports of the same exit join the first. */
export function recordExit(ctx: ContainerContext, c: Container, exit: ExitInfo, reason?: string): Promise<void> {
  c.exiting ??= (async () => {
    // containerd deletes the task after an exit; the shim stops writing output before that returns.
    await deleteTask(ctx.deps.containerd, c.id).catch((e) =>
      ctx.deps.logger.warn("failed to delete exited container task", { containerId: c.id, error: messageOf(e) }),
    );
    const io = c.io;
    if (io) {
      await Promise.race([io.done, sleep(OUTPUT_DRAIN_MS)]);
      io.close();
      c.io = undefined;
    }
    // Checkpointed, and then `stopped` resolves (the container is EXITED).
    const wasExited = await ctx.containers.updateSync(c, (s) => {
      const was = s.finishedAt !== 0n;
      if (s.finishedAt === 0n) {
        s.pid = 0;
        // A process that exits at once may beat Tasks.Start's reply, which stamps startedAt.
        const exitedAt = exit.exitedAtNs;
        s.finishedAt = exitedAt > s.startedAt ? exitedAt : s.startedAt;
        s.exitCode = exit.exitStatus;
        if (reason) s.reason = reason;
      }
      s.unknown = false;
      return was;
    });
    if (!wasExited) ctx.state.events?.emit(ContainerEventType.CONTAINER_STOPPED_EVENT, c.id, c.meta.sandboxId);
  })();
  return c.exiting;
}

/** Routes a task exit to its container; false when the task is not one of crib's containers. */
export function handleContainerExit(ctx: ContainerContext, e: TaskExit): boolean {
  const c = ctx.containers.exact(e.containerId);
  if (!c) return false;
  // Exec processes are waited for by ExecSync itself.
  if (e.processId !== e.containerId) return true;
  const exit = { exitStatus: e.exitStatus, exitedAtNs: e.exitedAtNs };
  if (c.status.starting) {
    c.pendingExit = exit;
    return true;
  }
  if (c.state === ContainerState.CONTAINER_EXITED) return true;
  // Not started and not starting: the exit is of a never-started task recovery deleted.
  if (c.state === ContainerState.CONTAINER_CREATED) return true;
  recordExit(ctx, c, exit).catch((err) => ctx.deps.logger.warn("failed to record container exit", { containerId: c.id, error: messageOf(err) }));
  return true;
}

/** containerd sets the reason when the kernel's OOM killer hit the container, whether or not it died of it. */
export function handleContainerOOM(ctx: ContainerContext, containerId: string): boolean {
  const c = ctx.containers.exact(containerId);
  if (!c) return false;
  void ctx.containers.updateSync(c, (s) => {
    s.reason = OOM_EXIT_REASON;
  });
  return true;
}

/** Asks containerd about one running container's task and records the exit it missed, if any. */
export async function reconcileContainer(ctx: ContainerContext, c: Container): Promise<void> {
  if (c.state !== ContainerState.CONTAINER_RUNNING || c.status.starting || c.exiting) return;
  try {
    const t = await ctx.deps.containerd.tasks.get({ containerId: c.id });
    const p = t.process;
    if (p?.status === TaskStatus.STOPPED) {
      await recordExit(ctx, c, { exitStatus: p.exitStatus, exitedAtNs: timestampNs(p.exitedAt) ?? nowNs() });
    }
  } catch (e) {
    if (!isNotFound(e)) throw e;
    if (c.exiting || c.state !== ContainerState.CONTAINER_RUNNING) return;
    await recordExit(ctx, c, { exitStatus: UNKNOWN_EXIT_CODE, exitedAtNs: nowNs() }, UNKNOWN_EXIT_REASON);
  }
}

/** After every (re)subscription to containerd's events: exits that happened meanwhile. */
export async function reconcileContainers(ctx: ContainerContext): Promise<void> {
  const running = ctx.containers.list().filter((c) => c.state === ContainerState.CONTAINER_RUNNING);
  await mapLimit(running, 16, (c) =>
    reconcileContainer(ctx, c).catch((e) => ctx.deps.logger.warn("container reconcile failed", { containerId: c.id, error: messageOf(e) })),
  );
}
