// The runtime feature as the composition root builds it: Version, Status, RuntimeConfig,
// UpdateRuntimeConfig and CheckpointContainer (which reads the container store).
import type { CriDeps, ImageProvider } from "../common/deps.js";
import { nothing, type Feature } from "../common/feature.js";
import type { ContainerStore } from "../container/container-store.js";
import { runtimeConfig } from "./runtime-config.js";
import { status } from "./runtime-status.js";
import { version } from "./runtime-version.js";
import { updateRuntimeConfig } from "./runtime-update-config.js";
import { checkpointContainer } from "./runtime-checkpoint.js";

export interface RuntimeUses {
  containers: ContainerStore;
  images: ImageProvider;
}

export function runtimeFeature(deps: CriDeps, uses: RuntimeUses): Feature {
  return {
    runtime: {
      version: version(deps),
      status: status(deps),
      runtimeConfig: runtimeConfig(deps),
      updateRuntimeConfig: updateRuntimeConfig(deps),
      checkpointContainer: checkpointContainer({ deps, ...uses }),
    },
    image: {},
    start: nothing,
    stop: nothing,
    api: undefined,
  };
}
