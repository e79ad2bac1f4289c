// In-memory pod sandboxes, recovered from containerd at start and kept in step with it by
// the RPCs and the exit monitor. The metadata is what containerd keeps in the pause
// container's extension; the status is derived from its task.
import type { PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { notFound } from "../errors.js";
import { NameIndex } from "../common/name-index.js";

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

export interface Sandbox {
  meta: SandboxMetadata;
  state: SandboxState;
  /** Nanoseconds since the epoch. */
  createdAt: bigint;
  pid: number;
  /** Image id of the pause image. */
  imageId: string;
  /** The runtime (containerd runtime type) the pause container runs with. */
  runtimeType: string;
  /** Set while StopPodSandbox tears it down, so the exit monitor does not race it. */
  stopping: boolean;
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
    if (idOrPrefix === "") return undefined;
    const exact = this.byId.get(idOrPrefix);
    if (exact) return exact;
    let found: Sandbox | undefined;
    for (const [id, s] of this.byId) {
      if (id.startsWith(idOrPrefix)) {
        if (found) return undefined; // ambiguous prefix
        found = s;
      }
    }
    return found;
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
}
