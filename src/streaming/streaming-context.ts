// What the Exec and Attach RPCs and their sessions read: crib's deps and the container store.
import type { CriDeps } from "../common/deps.js";
import type { ContainerStore } from "../container/container-store.js";

export interface StreamingContext {
  deps: CriDeps;
  containers: ContainerStore;
}
