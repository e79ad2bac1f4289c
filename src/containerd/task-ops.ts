// Task operations shared by sandboxes and containers, NotFound-tolerant so Stop and
// Remove stay idempotent.
import type { Containerd } from "./client.js";
import { isNotFound, wrap } from "../errors.js";

const SIGKILL = 9;
const RESEND_MS = 100;

/** Kills and waits for a task's init process: signal, then SIGKILL after graceMs. */
export async function stopTask(cd: Containerd, id: string, signal: number, graceMs: number): Promise<void> {
  const wait = cd.tasks.wait({ containerId: id }, { timeoutMs: 0 }).catch((e) => {
    if (!isNotFound(e)) throw e;
  });
  wait.catch(() => undefined);
  try {
    await cd.tasks.kill({ containerId: id, signal, all: false });
  } catch (e) {
    if (isNotFound(e)) return;
    throw wrap(e, `failed to stop task ${id}`);
  }
  if (signal !== SIGKILL) {
    // A process that has not installed its handler yet (a pause stopped right after its
    // start, as PID 1 of its namespace) drops the signal: repeat it until the grace ends.
    let done = false;
    const exitedPromise = wait.then(() => (done = true));
    const resend = setInterval(() => {
      if (!done) cd.tasks.kill({ containerId: id, signal, all: false }).catch(() => undefined);
    }, RESEND_MS);
    const exited = await Promise.race([exitedPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
    clearInterval(resend);
    if (exited) return;
    try {
      await cd.tasks.kill({ containerId: id, signal: SIGKILL, all: true });
    } catch (e) {
      if (isNotFound(e)) return;
      throw wrap(e, `failed to kill task ${id}`);
    }
  }
  await wait;
}

/** Deletes a task (killing it first if it still runs); a missing task is fine. */
export async function deleteTask(cd: Containerd, id: string): Promise<void> {
  try {
    await cd.tasks.delete({ containerId: id });
    return;
  } catch (e) {
    if (isNotFound(e)) return;
    // Still running: kill, then delete.
  }
  await stopTask(cd, id, SIGKILL, 0);
  try {
    await cd.tasks.delete({ containerId: id });
  } catch (e) {
    if (!isNotFound(e)) throw wrap(e, `failed to delete task ${id}`);
  }
}

/**
 * Deletes a task that was created and never started (crib died between Tasks.Create and
 * Tasks.Start). Deleted as it is, containerd 2.1's shim first waits up to 10 s for the
 * init's stdio copy to end (Init.delete's waitTimeout on its io WaitGroup), and that copy
 * ends only when the pipe's writer, the runc init process still waiting to be started,
 * goes away. SIGKILL first ends runc init, so the copy and then the delete finish at once.
 */
export async function deleteCreatedTask(cd: Containerd, id: string): Promise<void> {
  await stopTask(cd, id, SIGKILL, 0);
  await deleteTask(cd, id);
}

/**
 * Deletes a container record and its snapshot; both missing is fine. Both are asked at
 * once (one round trip instead of two): containerd's Snapshots/Remove does not look at
 * the containers that name the snapshot, and a retry after a partial failure finds the
 * part already gone NotFound.
 */
export async function deleteContainerAndSnapshot(cd: Containerd, id: string, snapshotter: string, snapshotKey: string): Promise<void> {
  const container = cd.containers.delete({ id }).catch((e) => {
    if (!isNotFound(e)) throw wrap(e, `failed to delete containerd container ${id}`);
  });
  const snapshot = snapshotKey
    ? cd.snapshots.remove({ snapshotter, key: snapshotKey }).catch((e) => {
        if (!isNotFound(e)) throw wrap(e, `failed to remove snapshot ${snapshotKey}`);
      })
    : Promise.resolve();
  // Both settle before an error is reported, so nothing runs on after the call failed.
  const [c, s] = await Promise.allSettled([container, snapshot]);
  if (c.status === "rejected") throw c.reason;
  if (s.status === "rejected") throw s.reason;
}
