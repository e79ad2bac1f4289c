// In-memory containers, recovered from containerd at start and kept in step with it by the
// RPCs and the exit monitor. The store owns the state machine of containerd's CRI
// (store/container/status.go): CREATED → RUNNING → EXITED, UNKNOWN when the state could
// not be loaded; "starting" and "removing" guard Start and Remove against each other.
import type { Any } from "@bufbuild/protobuf/wkt";
import { ContainerState, type ContainerConfig, type ContainerResources } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, notFound } from "../errors.js";
import type { OciSpec } from "../oci/spec-types.js";
import { NameIndex } from "../common/name-index.js";
import { findByIdOrPrefix } from "../common/id-prefix.js";

/** What containerd keeps in the container's metadata extension; immutable once created. */
export interface ContainerMetadata {
  id: string;
  /** name_podname_podnamespace_poduid_attempt, unique among live containers. */
  name: string;
  sandboxId: string;
  config: ContainerConfig;
  /** Image id (config digest) of the image the container was created from. */
  imageRef: string;
  /** The image reference resolved at creation (a tag, else a digest reference). */
  imageName: string;
  /** Full host path of the CRI log file; "" when the pod or container set none. */
  logPath: string;
  /** The image's or config's stop signal, "" for SIGTERM. */
  stopSignal: string;
  processLabel: string;
}

/** The mutable status; the first group is checkpointed to disk (containerd's status file). */
export interface ContainerStatus {
  pid: number;
  /** Nanoseconds since the epoch; 0 = not reached. */
  createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  resources: ContainerResources | undefined;
  // Not checkpointed:
  starting: boolean;
  removing: boolean;
  /** The state could not be loaded (recovery failed); cleared by the next exit. */
  unknown: boolean;
}

/**
 * What crib keeps of the containerd container record, so that Status, List and Exec need
 * no containerd call: all of it is immutable except the spec's resources, which
 * UpdateContainerResources changes in both places.
 */
export interface ContainerRecord {
  spec: OciSpec;
  snapshotter: string;
  snapshotKey: string;
  runtimeType: string;
  runtimeOptions: Any | undefined;
}

/** An exit as the exit monitor or containerd's task state reports it. */
export interface ExitInfo {
  exitStatus: number;
  /** Nanoseconds since the epoch. */
  exitedAtNs: bigint;
}

/** The container's stdio as the RPCs need it: the log pump and the FIFOs behind it. */
export interface AttachedIO {
  /** Resolves when all output is in the log file. */
  readonly done: Promise<void>;
  reopenLog(): Promise<void>;
  /** Stops reading and releases the FIFOs. */
  close(): void;
}

export function newStatus(createdAt: bigint): ContainerStatus {
  return {
    pid: 0,
    createdAt,
    startedAt: 0n,
    finishedAt: 0n,
    exitCode: 0,
    reason: "",
    message: "",
    resources: undefined,
    starting: false,
    removing: false,
    unknown: false,
  };
}

/** containerd's Status.State(). */
export function containerState(s: ContainerStatus): ContainerState {
  if (s.unknown) return ContainerState.CONTAINER_UNKNOWN;
  if (s.finishedAt !== 0n) return ContainerState.CONTAINER_EXITED;
  if (s.startedAt !== 0n) return ContainerState.CONTAINER_RUNNING;
  if (s.createdAt !== 0n) return ContainerState.CONTAINER_CREATED;
  return ContainerState.CONTAINER_UNKNOWN;
}

export const stateName = (s: ContainerState) => ContainerState[s] ?? String(s);

// What ContainerStore alone may do to a container: publish a new status, keep the tail
// of its checkpoint writes, resolve `stopped`. Set once by Container's static block.
let internals: {
  publish(c: Container, s: Readonly<ContainerStatus>): void;
  writes(c: Container): Promise<void> | undefined;
  setWrites(c: Container, p: Promise<void> | undefined): void;
  markStopped(c: Container): void;
};

export class Container {
  io: AttachedIO | undefined;
  /** A StopContainer with a timeout already sent the stop signal (it is sent once). */
  stopSignalSent = false;
  /** An exit reported while StartContainer was still running; Start records it when done. */
  pendingExit: ExitInfo | undefined;
  /** The recording of this container's exit, once begun (exits are reported more than once). */
  exiting: Promise<void> | undefined;
  /**
   * Clean-up recovery left to the background (a never-started task being deleted): crib
   * serves meanwhile, and Start and Remove of this container wait for it first.
   */
  cleanup: Promise<void> | undefined;
  /**
   * Whether a cut-short Tasks/Create may have left a cgroup of this container that no
   * `runc delete` removes (see common/cgroup-leftovers.ts). Unknown, so true, for a
   * container recovered from disk. False for one this crib created, true while its
   * Tasks/Create is in flight and after one failed; false again once a task exists (its
   * delete runs `runc delete`, which removes the cgroup).
   */
  cgroupMayBeLeft = true;
  #status: Readonly<ContainerStatus>;
  /** The last checkpoint write of this container still under way (writes run one at a time). */
  #writes: Promise<void> | undefined;
  #resolveStopped!: () => void;
  /** Resolves once the container's exit has been recorded (and checkpointed). */
  readonly stopped: Promise<void>;
  private lock: Promise<unknown> = Promise.resolve();

  static {
    internals = {
      publish: (c, s) => (c.#status = s),
      writes: (c) => c.#writes,
      setWrites: (c, p) => (c.#writes = p),
      markStopped: (c) => c.#resolveStopped(),
    };
  }

  constructor(
    readonly meta: ContainerMetadata,
    status: ContainerStatus,
    public record: ContainerRecord,
  ) {
    this.#status = Object.freeze({ ...status });
    this.stopped = new Promise((r) => (this.#resolveStopped = r));
    if (containerState(status) === ContainerState.CONTAINER_EXITED) this.#resolveStopped();
  }

  get id(): string {
    return this.meta.id;
  }

  /** The current status, read-only: it changes only through ContainerStore.update/updateSync. */
  get status(): Readonly<ContainerStatus> {
    return this.#status;
  }

  get state(): ContainerState {
    return containerState(this.#status);
  }

  /** Runs fn after every earlier locked operation on this container (containerd's per-id locker). */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/**
 * Where a container's status is persisted: containerd's status checkpoint file. Injected
 * into the store, so no caller writes it by hand.
 */
export interface StatusPersister {
  /** Writes the checkpoint; rejects when it could not. */
  write(id: string, status: Readonly<ContainerStatus>): Promise<void>;
  /** A write after an update failed (see ContainerStore.updateSync). */
  failed(id: string, error: unknown): void;
}

export class ContainerStore {
  private readonly byId = new Map<string, Container>();
  readonly names = new NameIndex();

  constructor(private readonly persister: StatusPersister) {}

  // --- status changes (containerd's store/container/status.go) -----------------------
  //
  // fn gets a copy of the status to change; the copy becomes the status when fn returns
  // (if fn throws, nothing changed). Node runs fn to its end without interleaving, which is
  // what containerd's status mutex gives: no other change can slip between its read and its
  // write.

  /**
   * containerd's Status.Update: applied in memory only, for what is not checkpointed
   * (starting, removing, unknown) or what the step's closing updateSync writes anyway.
   */
  update<T>(c: Container, fn: (s: ContainerStatus) => T): T {
    const next = { ...c.status };
    const out = fn(next);
    internals.publish(c, Object.freeze(next));
    return out;
  }

  /**
   * containerd's Status.UpdateSync: applies fn, then checkpoints the result; resolves once
   * it is on disk, and `stopped` resolves then when the container is EXITED. One container's
   * writes run one after another, each writing the status its update made, so the file
   * always ends with the latest.
   *
   * Two deliberate differences from containerd, both what crib did before the store owned
   * the write: the new status is visible to readers at once, not only after the write; and
   * a failed write is reported to the persister's `failed` (logged) instead of returned,
   * with the in-memory status kept: containerd's exit handler retries a failed UpdateSync
   * through its event backoff, crib has no such retry, and the next change rewrites the file.
   */
  updateSync<T>(c: Container, fn: (s: ContainerStatus) => T): Promise<T> {
    const out = this.update(c, fn);
    const status = c.status;
    const write = async () => {
      try {
        await this.persister.write(c.id, status);
      } catch (e) {
        this.persister.failed(c.id, e);
      }
    };
    const before = internals.writes(c);
    const written = before ? before.then(write) : write();
    internals.setWrites(c, written);
    return written.then(() => {
      if (internals.writes(c) === written) internals.setWrites(c, undefined);
      if (containerState(status) === ContainerState.CONTAINER_EXITED) internals.markStopped(c);
      return out;
    });
  }

  /**
   * The first checkpoint of a container being created (containerd's StoreStatus): a
   * failure is returned, and fails the CreateContainer.
   */
  checkpointNew(id: string, status: ContainerStatus): Promise<void> {
    return this.persister.write(id, status);
  }

  /** Start may begin: the container is CREATED and nothing else is starting or removing it. */
  setStarting(c: Container): void {
    this.update(c, (s) => {
      const state = containerState(s);
      if (state !== ContainerState.CONTAINER_CREATED) throw failedPrecondition(`container is in ${stateName(state)} state`);
      if (s.removing) throw failedPrecondition("container is in removing state, can't be started");
      if (s.starting) throw failedPrecondition("container is already in starting state");
      s.starting = true;
    });
  }

  /** Remove may begin: the container is not running and no start or removal is under way. */
  setRemoving(c: Container): void {
    this.update(c, (s) => {
      const state = containerState(s);
      if (state === ContainerState.CONTAINER_RUNNING) throw failedPrecondition("container is still running, to stop first");
      if (state === ContainerState.CONTAINER_UNKNOWN) throw failedPrecondition("container state is unknown, to stop first");
      if (s.starting) throw failedPrecondition("container is in starting state, can't be removed");
      if (s.removing) throw failedPrecondition("container is already in removing state");
      s.removing = true;
    });
  }

  add(c: Container): void {
    this.names.reserve(c.meta.name, c.id);
    this.byId.set(c.id, c);
  }

  /** Exact id, or a unique prefix of one (as containerd's truncindex). */
  get(idOrPrefix: string): Container {
    const c = this.find(idOrPrefix);
    if (!c) throw notFound(`an error occurred when try to find container "${idOrPrefix}": not found`);
    return c;
  }

  /** Only an exact id (events name containers by full id). */
  exact(id: string): Container | undefined {
    return this.byId.get(id);
  }

  find(idOrPrefix: string): Container | undefined {
    return findByIdOrPrefix(this.byId, idOrPrefix);
  }

  /** The live container holding a name, if any. */
  byName(name: string): Container | undefined {
    const id = this.names.owner(name);
    return id === undefined ? undefined : this.byId.get(id);
  }

  delete(id: string): void {
    const c = this.byId.get(id);
    if (!c) return;
    this.byId.delete(id);
    this.names.releaseByName(c.meta.name);
  }

  list(): Container[] {
    return [...this.byId.values()];
  }

  listBySandbox(sandboxId: string): Container[] {
    return this.list().filter((c) => c.meta.sandboxId === sandboxId);
  }
}
