// What the container RPCs share: crib's deps, the lower features they use (pod lookups,
// images, the event sink), the container store and the CreateContainer calls in flight;
// plus the status checkpoint every state change goes through.
import type { ContainerConfig } from "../gen/runtime/v1/api_pb.js";
import { join } from "node:path";
import { LRUCache } from "lru-cache";
import type { SandboxFiles } from "../oci/mounts.js";
import { FifoPool } from "../io/fifo-pool.js";
import { ContainerStore } from "./container-store.js";
import type { CriDeps, ImageProvider } from "../common/deps.js";
import type { ContainerEventSink } from "../common/container-event-sink.js";
import type { PodLookup } from "./pod-lookup.js";
import { containerDirs, statusCheckpointer } from "./container-metadata.js";
import { ImageUserFilesCache } from "./image-user-files.js";

/** A CreateContainer under way, which a kubelet retry with the same request joins. */
export interface InFlightCreate {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  result: Promise<string>;
}

/** The lower features the container RPCs use, passed in by the composition root. */
export interface ContainerUses {
  /** The pods (pod is above container: this is its read-only view, src/container/pod-lookup.ts). */
  sandboxes: PodLookup;
  images: ImageProvider;
  /** GetContainerEvents' feed: called right after each container state change is in the store. */
  events?: ContainerEventSink;
}

export interface ContainerContext {
  deps: CriDeps;
  state: ContainerUses;
  containers: ContainerStore;
  /** By container name. */
  creating: Map<string, InFlightCreate>;
  /** FIFOs made ahead for container and ExecSync stdio. */
  fifos: FifoPool;
  /** Images' passwd/group, read once per image. */
  userFiles: ImageUserFilesCache;
  /** Which of a pod's shared files exist, looked at for its first container (see container-spec-inputs.ts). */
  podFiles: LRUCache<string, SandboxFiles>;
}

export function newContainerContext(deps: CriDeps, state: ContainerUses): ContainerContext {
  return { deps, state, containers: new ContainerStore(statusCheckpointer(deps.config.rootDir, deps.config.stateDir, deps.logger)), creating: new Map(), fifos: new FifoPool(join(deps.config.stateDir, "fifo-pool")), userFiles: new ImageUserFilesCache(), podFiles: new LRUCache({ max: 1024 }) };
}

export { nowNs } from "../clock.js";

export function dirsOf(ctx: ContainerContext, id: string): ReturnType<typeof containerDirs> {
  return containerDirs(ctx.deps.config.rootDir, ctx.deps.config.stateDir, id);
}

