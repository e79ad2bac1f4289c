// The image side of crib, built once at start: the CRI image store (loaded from
// containerd), the puller behind PullImage and the snapshotter usage behind ImageFsInfo.
// Other RPCs use it too: RunPodSandbox ensures the sandbox image, CreateContainer resolves
// the container's image to its id, config and chain id.
import type { CriDeps } from "../common/deps.js";
import { ImageStore } from "./image-store.js";
import { ImageInfoReader } from "./image-info.js";
import { ImagePuller } from "./image-puller.js";
import { SnapshotUsage, snapshotterRoot } from "./image-fs-usage.js";
import { hostPlatform } from "./platform.js";
import { normalizeReference } from "./reference.js";
import { pullPath } from "../containerd/capabilities.js";

export interface Images {
  store: ImageStore;
  puller: ImagePuller;
  fsUsage: SnapshotUsage;
}

export async function startImages(deps: CriDeps): Promise<Images> {
  const { containerd, config, logger } = deps;
  const platform = hostPlatform();
  const reader = new ImageInfoReader(containerd, platform);
  const pinnedNames = new Set<string>();
  try {
    pinnedNames.add(normalizeReference(config.sandboxImage));
  } catch (e) {
    logger.warn("sandbox_image is not a valid reference; it will not be pinned", { sandboxImage: config.sandboxImage, error: (e as Error).message });
  }
  const store = new ImageStore({ containerd, reader, snapshotter: config.snapshotter, pinnedNames, logger });
  const started = Date.now();
  const loaded = await store.load();
  logger.info("loaded images from containerd", { images: loaded.images, skipped: loaded.skipped, ms: Date.now() - started });
  const puller = new ImagePuller({
    containerd,
    store,
    platform,
    registryConfigPath: config.registryConfigPath,
    progressTimeoutMs: config.imagePullProgressTimeoutMs,
    pullThrough: pullPath(deps.capabilities),
    containerdVersion: deps.capabilities.version,
    logger,
  });
  const fsUsage = new SnapshotUsage(containerd, config.snapshotter, await snapshotterRoot(containerd, config.snapshotter));
  return { store, puller, fsUsage };
}
