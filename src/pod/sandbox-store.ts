// In-memory pod sandboxes, recovered from containerd at start and kept in step with it by
// the RPCs and the exit monitor. The metadata is what containerd keeps in the pause
// container's extension; the status is derived from its task, and changes only through
// SandboxStore.update (containerd's sandbox Status.Update).
import type { PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { notFound } from "../errors.js";
import { NameIndex } from "../common/name-index.js";
import { findByIdOrPrefix } from "../common/id-prefix.js";

export type SandboxState = "ready" | "notready" | "unknown";

export interface SandboxMetadata {
  id: string;
  /** name_namespace_uid_attempt, unique among live sandboxes. */
  name: string;
  config: PodSandboxConfig;
  /** Empty for host-network pods. */
  netnsPath: string;
  ip: string;
  additionalIps: string[];
  runtimeHandler: string;
  /** The CNI ADD result as kept in containerd's metadata (go-cni's Result shape). */
  cniResult: unknown;
  processLabel: string;
}

/** What changes in a sandbox's life: only through SandboxStore.update. */
export interface SandboxStatus {
  state: SandboxState;
  pid: number;
  /** Set while StopPodSandbox tears it down, so the exit monitor does not race it. */
  stopping: boolean;
}

/** A sandbox as the store hands it out: read-only (the compiler refuses writes elsewhere). */
export interface Sandbox extends Readonly<SandboxStatus> {
  readonly meta: Readonly<SandboxMetadata>;
  /** Nanoseconds since the epoch. */
  readonly createdAt: bigint;
  /** Image id of the pause image. */
  readonly imageId: string;
  /** The runtime (containerd runtime type) the pause container runs with. */
  readonly runtimeType: string;
}

export class SandboxStore {
  private readonly byId = new Map<string, Sandbox>();
  readonly names = new NameIndex();

  add(s: Sandbox): void {
    this.names.reserve(s.meta.name, s.meta.id);
    this.byId.set(s.meta.id, s);
  }

  /** Exact id, or a unique prefix of one (as containerd's truncindex). */
  get(idOrPrefix: string): Sandbox {
    const s = this.find(idOrPrefix);
    if (!s) throw notFound(`an error occurred when try to find sandbox "${idOrPrefix}": not found`);
    return s;
  }

  find(idOrPrefix: string): Sandbox | undefined {
    return findByIdOrPrefix(this.byId, idOrPrefix);
  }

  delete(id: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    this.byId.delete(id);
    this.names.releaseByName(s.meta.name);
  }

  list(): Sandbox[] {
    return [...this.byId.values()];
  }

  /**
   * containerd's sandbox Status.Update: fn changes a copy of the status, which replaces the
   * sandbox's when fn returns (if fn throws, nothing changed). There is nothing to write:
   * containerd's own records are the sandbox's persistence. fn runs to its end without
   * interleaving in Node, which is what containerd's status mutex gives.
   */
  update<T>(s: Sandbox, fn: (status: SandboxStatus) => T): T {
    const next: SandboxStatus = { state: s.state, pid: s.pid, stopping: s.stopping };
    const out = fn(next);
    Object.assign(s as SandboxStatus, next);
    return out;
  }

  /** The pause task is gone: NOTREADY. True when it was not NOTREADY before (the STOPPED event is due). */
  setNotReady(s: Sandbox): boolean {
    return this.update(s, (st) => {
      const wasReady = st.state !== "notready";
      st.state = "notready";
      return wasReady;
    });
  }
}
