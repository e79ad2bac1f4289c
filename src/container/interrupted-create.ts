// A StartContainer cut short by crib's death can leave the pod's shim stuck in Tasks.Create:
// after `runc create` the shim opens the container's stdout and stderr FIFOs for writing, a
// blocking open that waits for a reader, while it holds its service lock; crib, the reader,
// is gone. Every call to that shim (the pause's State, Kill and Delete too) then waits, for
// up to 30 s (the shim's own limit on that open), and containerd gives up its clean-up of
// the half-created task after 5 s. containerd 2.x removes the task's bundle all the same;
// 1.6 and 1.7 remove it only after a shim Delete that succeeded (runtime/v2 TaskManager.Create
// -> shimTask.delete), so the bundle <state>/io.containerd.runtime.v2.task/<ns>/<id> stays,
// no API call removes it (containerd no longer lists the task), and a later Tasks.Create of
// the container fails with "file exists". containerd's own CRI never gets here: it reads
// the FIFOs inside containerd, which a dying kubelet does not take along.
//
// So at start-up, before any call reaches a shim, crib opens the output FIFOs of every
// container checkpointed CREATED for reading, as containerd's CRI would be reading them: a
// blocked Create goes on at once, and the pods' recovery finds the pause RUNNING rather
// than UNKNOWN (which it would take for dead, and kill). The read ends stay open until the
// containers are recovered: the shim opens stderr after stdout, and a reader that came
// and went before that second open would not wake it. Nothing is read from them.
//
// A FIFO with a writer (a read answers EAGAIN, not end-of-file) whose task containerd does
// not know is such an interrupted Create. containerd's pending clean-up deletes that task
// in the shim, but the shim first waits for the stdio copy, which ends only with the
// container's `runc init` (2.x waits 10 s, past containerd's 5 s; 1.x 2 s): crib kills the
// processes of the container's cgroup (the runc init of a container never started), as it
// kills a never-started task before deleting it. The shim closes the FIFOs once it deleted
// the task: StartContainer and RemoveContainer wait for that (Container.cleanup), so the
// new task does not meet the old one. If crib was down longer than containerd's 5 s, the
// shim keeps a task containerd dropped (and 1.x its bundle), which no API call reaches.
import { constants } from "node:fs";
import { open, readdir, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { fifoSetIn } from "../io/fifo.js";
import { mapLimit } from "../common/map-limit.js";
import { killCgroupProcs } from "../common/cgroup-leftovers.js";
import { parseJsonAny } from "../containerd/any.js";
import { OCI_SPEC_TYPE_URL, type OciSpec } from "../oci/spec-types.js";
import { isNotFound, messageOf } from "../errors.js";
import type { CriDeps } from "../common/deps.js";
import { containerState, type ContainerStatus } from "./container-store.js";
import { containerDirs, readStatusCheckpoint } from "./container-metadata.js";

const POLL_MS = 50;
/** containerd's 5 s clean-up, and then some. */
const WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

interface Readers {
  stdout?: FileHandle;
  stderr?: FileHandle;
}

/** The output FIFOs of never-started containers, open for reading; and the checkpoints read on the way. */
export interface HeldOutputs {
  /** Each container's status checkpoint as read, by id (the recovery reads them once). */
  checkpoints: Map<string, ContainerStatus>;
  /** How many FIFOs are held open. */
  count: number;
  /** Never-started containers whose stdout FIFO has a writer (a shim). */
  written: string[];
  /** Resolves once no writer holds the container's stdout FIFO, or after timeoutMs (false); its FIFOs are closed then. */
  writerGone(id: string, timeoutMs: number): Promise<boolean>;
  /** Closes every FIFO but those writerGone still watches. */
  close(): Promise<void>;
}

async function openReader(path: string): Promise<FileHandle | undefined> {
  try {
    // O_NONBLOCK: a FIFO's read end opens at once, with or without a writer.
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined; // absent (a tty container has no stderr FIFO), or not made yet
  }
}

/** Whether a FIFO has a writer: a non-blocking read waits (EAGAIN) then, and ends (0) without one. */
async function hasWriter(h: FileHandle): Promise<boolean> {
  const buf = Buffer.alloc(4096);
  try {
    // A never-started container wrote nothing; should something be there, it is skipped.
    while ((await h.read(buf, 0, buf.length, null)).bytesRead > 0);
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EAGAIN") return true;
    return false;
  }
}

const closeAll = (r: Readers) => Promise.all([r.stdout?.close().catch(() => undefined), r.stderr?.close().catch(() => undefined)]);

export async function holdCreatedOutputs(rootDir: string, stateDir: string): Promise<HeldOutputs> {
  const checkpoints = new Map<string, ContainerStatus>();
  const readers = new Map<string, Readers>();
  const written: string[] = [];
  const ids = await readdir(join(rootDir, "containers")).catch(() => [] as string[]);
  await mapLimit(ids, 16, async (id) => {
    const dirs = containerDirs(rootDir, stateDir, id);
    const status = await readStatusCheckpoint(dirs.root).catch(() => undefined);
    if (!status) return;
    checkpoints.set(id, status);
    if (containerState(status) !== ContainerState.CONTAINER_CREATED) return;
    const fifos = fifoSetIn(dirs.io, id, { stdin: false, terminal: false });
    const [stdout, stderr] = await Promise.all([openReader(fifos.stdout), openReader(fifos.stderr)]);
    readers.set(id, { stdout, stderr });
    if (stdout && (await hasWriter(stdout))) written.push(id);
  });
  const watched = new Set<string>();
  return {
    checkpoints,
    count: [...readers.values()].reduce((n, r) => n + (r.stdout ? 1 : 0) + (r.stderr ? 1 : 0), 0),
    written,
    async writerGone(id, timeoutMs) {
      const r = readers.get(id);
      if (!r?.stdout) return true;
      watched.add(id);
      try {
        for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(POLL_MS)) {
          if (!(await hasWriter(r.stdout))) return true;
        }
        return false;
      } finally {
        readers.delete(id);
        await closeAll(r);
      }
    },
    async close() {
      const rest = [...readers].filter(([id]) => !watched.has(id));
      for (const [id] of rest) readers.delete(id);
      await Promise.all(rest.map(([, r]) => closeAll(r)));
    },
  };
}

/**
 * For each never-started container whose FIFO a shim holds and whose task containerd does
 * not know (an interrupted Create): kills its cgroup's processes, and returns a promise per
 * container that resolves once the shim let go of its FIFOs (the task is deleted).
 */
export async function releaseInterruptedCreates(deps: CriDeps, held: HeldOutputs): Promise<Map<string, Promise<void>>> {
  const { containerd: cd, logger } = deps;
  const pending = new Map<string, Promise<void>>();
  for (const id of held.written) {
    // A task containerd knows (Create answered, Start never sent) is the recovery's to delete.
    const known = await cd.tasks.get({ containerId: id }).then(
      () => true,
      (e: unknown) => !isNotFound(e),
    );
    if (known) continue;
    try {
      const { container } = await cd.containers.get({ id });
      const spec = parseJsonAny<OciSpec>(container?.spec, OCI_SPEC_TYPE_URL);
      const killed = await killCgroupProcs(spec?.linux?.cgroupsPath);
      logger.info("releasing a shim left in Tasks.Create by a crash", { containerId: id, killed });
    } catch (e) {
      if (!isNotFound(e)) logger.warn("failed to release a shim left in Tasks.Create", { containerId: id, error: messageOf(e) });
    }
    pending.set(
      id,
      held.writerGone(id, WAIT_MS).then((gone) => {
        if (!gone) logger.warn("a shim still holds the FIFOs of a task containerd dropped", { containerId: id });
      }),
    );
  }
  return pending;
}
