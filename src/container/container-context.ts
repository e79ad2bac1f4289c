// What the container RPCs share: crib's deps, the pod and image state, the container store
// (which writes the status checkpoint every state change goes through) and the
// CreateContainer calls in flight.
import type { ContainerConfig } from "../gen/runtime/v1/api_pb.js";
import { join } from "node:path";
import { FifoPool } from "../io/fifo-pool.js";
import { ContainerStore } from "./container-store.js";
import type { CriDeps, RuntimeState } from "../common/deps.js";
import { containerDirs, statusCheckpointer } from "./container-metadata.js";
import { ImageUserFilesCache } from "./image-user-files.js";

/** A CreateContainer under way, which a kubelet retry with the same request joins. */
export interface InFlightCreate {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  result: Promise<string>;
}

export interface ContainerContext {
  deps: CriDeps;
  state: RuntimeState;
  containers: ContainerStore;
  /** By container name. */
  creating: Map<string, InFlightCreate>;
  /** FIFOs made ahead for container and ExecSync stdio. */
  fifos: FifoPool;
  /** Images' passwd/group, read once per image. */
  userFiles: ImageUserFilesCache;
}

export function newContainerContext(deps: CriDeps, state: RuntimeState): ContainerContext {
  return { deps, state, containers: new ContainerStore(statusCheckpointer(deps.config.rootDir, deps.config.stateDir, deps.logger)), creating: new Map(), fifos: new FifoPool(join(deps.config.stateDir, "fifo-pool")), userFiles: new ImageUserFilesCache() };
}

export { nowNs } from "../clock.js";

export function dirsOf(ctx: ContainerContext, id: string): ReturnType<typeof containerDirs> {
  return containerDirs(ctx.deps.config.rootDir, ctx.deps.config.stateDir, id);
}

