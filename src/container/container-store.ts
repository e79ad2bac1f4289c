// In-memory containers, recovered from containerd at start and kept in step with it by the
// RPCs and the exit monitor. The store owns the state machine of containerd's CRI
// (store/container/status.go): CREATED → RUNNING → EXITED, UNKNOWN when the state could
// not be loaded; "starting" and "removing" guard Start and Remove against each other.
import type { Any } from "@bufbuild/protobuf/wkt";
import { ContainerState, type ContainerConfig, type ContainerResources } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, notFound } from "../errors.js";
import type { OciSpec } from "../oci/spec-types.js";
import { NameIndex } from "../common/name-index.js";

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
  private resolveStopped!: () => void;
  /** Resolves once the container's exit has been recorded. */
  readonly stopped: Promise<void>;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    readonly meta: ContainerMetadata,
    public status: ContainerStatus,
    public record: ContainerRecord,
  ) {
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    if (containerState(status) === ContainerState.CONTAINER_EXITED) this.resolveStopped();
  }

  get id(): string {
    return this.meta.id;
  }

  get state(): ContainerState {
    return containerState(this.status);
  }

  markStopped(): void {
    this.resolveStopped();
  }

  /** Runs fn after every earlier locked operation on this container (containerd's per-id locker). */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Start may begin: the container is CREATED and nothing else is starting or removing it. */
  setStarting(): void {
    const state = this.state;
    if (state !== ContainerState.CONTAINER_CREATED) throw failedPrecondition(`container is in ${stateName(state)} state`);
    if (this.status.removing) throw failedPrecondition("container is in removing state, can't be started");
    if (this.status.starting) throw failedPrecondition("container is already in starting state");
    this.status.starting = true;
  }

  /** Remove may begin: the container is not running and no start or removal is under way. */
  setRemoving(): void {
    const state = this.state;
    if (state === ContainerState.CONTAINER_RUNNING) throw failedPrecondition("container is still running, to stop first");
    if (state === ContainerState.CONTAINER_UNKNOWN) throw failedPrecondition("container state is unknown, to stop first");
    if (this.status.starting) throw failedPrecondition("container is in starting state, can't be removed");
    if (this.status.removing) throw failedPrecondition("container is already in removing state");
    this.status.removing = true;
  }
}

export class ContainerStore {
  private readonly byId = new Map<string, Container>();
  readonly names = new NameIndex();

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
    if (idOrPrefix === "") return undefined;
    const exact = this.byId.get(idOrPrefix);
    if (exact) return exact;
    let found: Container | undefined;
    for (const [id, c] of this.byId) {
      if (id.startsWith(idOrPrefix)) {
        if (found) return undefined; // ambiguous prefix
        found = c;
      }
    }
    return found;
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
