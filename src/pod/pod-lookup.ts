// The pod store as the container side reads it (src/container/pod-lookup.ts declares the
// interface): a pod's state, pause pid and config, and the paths of its shared files.
import type { Config } from "../config.js";
import type { PodLookup } from "../container/pod-lookup.js";
import { isHostIpc, sandboxPaths } from "./sandbox-files.js";
import type { SandboxStore } from "./sandbox-store.js";

export function podLookup(config: Config, sandboxes: SandboxStore): PodLookup {
  return {
    find: (idOrPrefix) => sandboxes.find(idOrPrefix),
    get: (idOrPrefix) => sandboxes.get(idOrPrefix),
    sharedFiles: (sandboxId, podConfig) => sandboxPaths(config.rootDir, config.stateDir, sandboxId, isHostIpc(podConfig)),
  };
}
