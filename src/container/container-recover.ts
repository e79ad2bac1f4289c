// Rebuilds the container store from containerd at start (containerd's loadContainer):
// containers labelled kind=container carry their metadata; the status comes from the
// checkpoint, brought up to date with the task: a running task gets its log pump
// re-attached to the FIFOs (what the container wrote meanwhile waits in the pipe), a
// stopped one is recorded with its exit code and deleted, a task gone while crib was down
// leaves the container EXITED with containerd's Unknown/255. Directories no container owns
// any more are removed.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Container as ContainerdContainer } from "../gen/github.com/containerd/containerd/api/services/containers/v1/containers_pb.js";
import { Status as TaskStatus, type Process } from "../gen/github.com/containerd/containerd/api/types/task/task_pb.js";
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { isNotFound, messageOf } from "../errors.js";
import { parseJsonAny } from "../containerd/any.js";
import { createFifos, type FifoSet } from "../io/fifo.js";
import { OCI_SPEC_TYPE_URL, type OciSpec } from "../oci/spec-types.js";
import { Container, newStatus, type ContainerStatus } from "./container-store.js";
import { KIND_CONTAINER, KIND_LABEL } from "../common/labels.js";
import { timestampNs } from "../clock.js";
import { dirsOf, nowNs, type ContainerContext } from "./container-context.js";
import { UNKNOWN_EXIT_CODE, UNKNOWN_EXIT_REASON } from "./container-exits.js";
import { mapLimit } from "../common/map-limit.js";
import { openContainerIO } from "./container-io.js";
import { CONTAINER_METADATA_EXTENSION, decodeContainerMetadata, encodeStatusCheckpoint, readStatusCheckpoint } from "./container-metadata.js";
import { containerFifos } from "./container-start.js";
import { deleteCreatedTask, deleteTask } from "../containerd/task-ops.js";

/** containerd's unknownContainerStatus, with the record's creation time. */
function unknownStatus(createdAt: bigint): ContainerStatus {
  const s = newStatus(createdAt);
  s.exitCode = UNKNOWN_EXIT_CODE;
  s.reason = UNKNOWN_EXIT_REASON;
  s.unknown = true;
  return s;
}

/** Every task of the namespace by container id (one Tasks/List instead of a Get per container); undefined if the list fails. */
async function listTasks(ctx: ContainerContext): Promise<Map<string, Process> | undefined> {
  try {
    const { tasks } = await ctx.deps.containerd.tasks.list({ filter: "" });
    return new Map(tasks.map((p) => [p.id, p]));
  } catch (e) {
    ctx.deps.logger.warn("failed to list tasks, asking for each container's", { error: messageOf(e) });
    return undefined;
  }
}

/**
 * A container's task, from the list when it is there. containerd's List leaves out a task
 * whose shim cannot report its state (Get fails on it): a container that was running and is
 * missing is asked for again, so such a failure still marks it unknown rather than exited.
 */
async function taskOf(ctx: ContainerContext, id: string, tasks: Map<string, Process> | undefined, wasRunning: boolean): Promise<Process | undefined> {
  const listed = tasks?.get(id);
  if (listed || (tasks && !wasRunning)) return listed;
  try {
    return (await ctx.deps.containerd.tasks.get({ containerId: id })).process;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The FIFOs the running task was created with (they name the paths, crib's layout may have changed). */
function taskFifos(fallback: FifoSet, p: Process): FifoSet {
  return { ...fallback, stdin: p.stdin, stdout: p.stdout || fallback.stdout, stderr: p.stderr, terminal: p.terminal };
}

/**
 * Brings a checkpointed status up to date with the task (in memory: loadContainer
 * checkpoints the result once, if it changed); returns the task when it runs.
 */
async function syncWithTask(ctx: ContainerContext, c: Container, tasks: Map<string, Process> | undefined): Promise<Process | undefined> {
  const p = await taskOf(ctx, c.id, tasks, c.state === ContainerState.CONTAINER_RUNNING);
  if (!p) {
    const state = c.state;
    if (state === ContainerState.CONTAINER_CREATED) await createFifos(containerFifos(ctx, c.id, c.meta.config), ctx.fifos);
    else if (state === ContainerState.CONTAINER_RUNNING) {
      // It ran, and its task vanished while crib was down: nobody knows how it ended.
      ctx.containers.update(c, (s) => {
        s.pid = 0;
        s.finishedAt = nowNs();
        s.exitCode = UNKNOWN_EXIT_CODE;
        s.reason = UNKNOWN_EXIT_REASON;
      });
    }
    return undefined;
  }
  switch (p.status) {
    case TaskStatus.CREATED:
      // crib died between Tasks.Create and Tasks.Start: the container is still CREATED. The
      // task goes in the background (crib serves meanwhile); Start and Remove wait for it.
      c.cleanup = deleteCreatedTask(ctx.deps.containerd, c.id).catch((e) => {
        ctx.deps.logger.warn("failed to delete the never-started task", { containerId: c.id, error: messageOf(e) });
      });
      if (c.state !== ContainerState.CONTAINER_CREATED) throw new Error(`unexpected container state for created task: ${c.state}`);
      return undefined;
    case TaskStatus.RUNNING:
    case TaskStatus.PAUSED:
    case TaskStatus.PAUSING:
      if (c.state === ContainerState.CONTAINER_EXITED) throw new Error("unexpected container state for running task: CONTAINER_EXITED");
      if (c.state !== ContainerState.CONTAINER_RUNNING) {
        // Started, but crib died before checkpointing it.
        ctx.containers.update(c, (s) => {
          s.startedAt = nowNs();
          s.pid = p.pid;
        });
      }
      return p;
    case TaskStatus.STOPPED:
      await deleteTask(ctx.deps.containerd, c.id);
      ctx.containers.update(c, (s) => {
        if (s.finishedAt === 0n) {
          s.pid = 0;
          s.startedAt ||= s.createdAt;
          s.finishedAt = timestampNs(p.exitedAt) ?? nowNs();
          s.exitCode = p.exitStatus;
        }
      });
      return undefined;
    default:
      throw new Error(`unexpected task status ${TaskStatus[p.status] ?? p.status}`);
  }
}

async function loadContainer(
  ctx: ContainerContext,
  record: ContainerdContainer,
  tasks: Map<string, Process> | undefined,
  checkpoint: ContainerStatus | undefined,
): Promise<Container | undefined> {
  const { logger } = ctx.deps;
  const meta = decodeContainerMetadata(record.extensions[CONTAINER_METADATA_EXTENSION]);
  if (!meta) {
    logger.warn("skipping container without readable metadata", { containerId: record.id });
    return undefined;
  }
  const created = timestampNs(record.createdAt) ?? nowNs();
  const dirs = dirsOf(ctx, record.id);
  let status: ContainerStatus;
  /** The checkpoint as read: rewritten only if recovery changed it. */
  let saved: string | undefined;
  try {
    status = checkpoint ?? (await readStatusCheckpoint(dirs.root));
    saved = encodeStatusCheckpoint(status);
  } catch (e) {
    logger.warn("failed to load container status", { containerId: record.id, error: messageOf(e) });
    status = unknownStatus(created);
  }
  const spec = parseJsonAny<OciSpec>(record.spec, OCI_SPEC_TYPE_URL) ?? { ociVersion: "" };
  const c = new Container(meta, status, {
    spec,
    snapshotter: record.snapshotter,
    snapshotKey: record.snapshotKey,
    runtimeType: record.runtime?.name ?? "",
    runtimeOptions: record.runtime?.options,
  });
  try {
    const running = await syncWithTask(ctx, c, tasks);
    if (running) {
      const io = await openContainerIO(ctx, c, taskFifos(containerFifos(ctx, c.id, meta.config), running));
      c.io = io;
      // The shim holds the FIFOs already; if it is gone the pump must end, not wait.
      await io.releasePlaceholders();
    }
  } catch (e) {
    logger.warn("failed to load container state", { containerId: c.id, error: messageOf(e) });
    // Only this is unknown; what the checkpoint says stays useful.
    ctx.containers.update(c, (s) => {
      s.unknown = true;
    });
  }
  // One write for all of the above, only when recovery changed the checkpoint; `stopped`
  // resolves with it, or did at construction for a container checkpointed EXITED.
  if (encodeStatusCheckpoint(c.status) !== saved) await ctx.containers.updateSync(c, () => undefined);
  return c;
}

/** Removes <base>/<id> dirs of containers containerd no longer has. */
async function removeOrphanDirs(base: string, known: Set<string>): Promise<void> {
  for (const id of await readdir(base).catch(() => [] as string[])) {
    if (!known.has(id)) await rm(join(base, id), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** `checkpoints`: the status checkpoints already read at start-up (interrupted-create.ts), by id. */
export async function recoverContainers(ctx: ContainerContext, checkpoints?: ReadonlyMap<string, ContainerStatus>): Promise<void> {
  const { containerd: cd, config, logger } = ctx.deps;
  const [res, tasks] = await Promise.all([cd.containers.list({ filters: [`labels."${KIND_LABEL}"==${KIND_CONTAINER}`] }), listTasks(ctx)]);
  await mapLimit(res.containers, 16, async (record) => {
    const c = await loadContainer(ctx, record, tasks, checkpoints?.get(record.id)).catch((e) => {
      logger.warn("failed to load container", { containerId: record.id, error: messageOf(e) });
      return undefined;
    });
    if (!c) return;
    try {
      ctx.containers.add(c);
    } catch (e) {
      logger.warn("failed to add recovered container", { containerId: c.id, error: messageOf(e) });
      c.io?.close();
    }
  });
  const known = new Set(res.containers.map((c) => c.id));
  await removeOrphanDirs(join(config.rootDir, "containers"), known);
  await removeOrphanDirs(join(config.stateDir, "containers"), known);
  logger.info("recovered containers", { count: ctx.containers.list().length });
}
