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
// blocked Create goes on at once, containerd's pending clean-up deletes the task and its
// bundle, and the pods' recovery finds the pause RUNNING rather than UNKNOWN (which it
// would take for dead, and kill). That works if crib is back within containerd's 5 s:
// later, the shim keeps a runc container containerd dropped (and 1.x the bundle), which
// no API call reaches (see README). The read ends stay open until the containers are
// recovered: the shim opens stderr after stdout, and a reader that came and went before
// that second open would not wake it. Nothing is read from them.
import { constants } from "node:fs";
import { open, readdir, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { fifoSetIn } from "../io/fifo.js";
import { mapLimit } from "../common/map-limit.js";
import { containerState, type ContainerStatus } from "./container-store.js";
import { containerDirs, readStatusCheckpoint } from "./container-metadata.js";

/** The output FIFOs of never-started containers, open for reading; and the checkpoints read on the way. */
export interface HeldOutputs {
  /** Each container's status checkpoint as read, by id (the recovery reads them once). */
  checkpoints: Map<string, ContainerStatus>;
  /** How many FIFOs are held open. */
  count: number;
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

export async function holdCreatedOutputs(rootDir: string, stateDir: string): Promise<HeldOutputs> {
  const checkpoints = new Map<string, ContainerStatus>();
  const handles: FileHandle[] = [];
  const ids = await readdir(join(rootDir, "containers")).catch(() => [] as string[]);
  await mapLimit(ids, 16, async (id) => {
    const dirs = containerDirs(rootDir, stateDir, id);
    const status = await readStatusCheckpoint(dirs.root).catch(() => undefined);
    if (!status) return;
    checkpoints.set(id, status);
    if (containerState(status) !== ContainerState.CONTAINER_CREATED) return;
    const fifos = fifoSetIn(dirs.io, id, { stdin: false, terminal: false });
    for (const h of await Promise.all([openReader(fifos.stdout), openReader(fifos.stderr)])) if (h) handles.push(h);
  });
  return {
    checkpoints,
    count: handles.length,
    close: async () => {
      await Promise.all(handles.splice(0).map((h) => h.close().catch(() => undefined)));
    },
  };
}
