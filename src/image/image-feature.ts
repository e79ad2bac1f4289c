// The image feature as the composition root builds it: the image store loaded from
// containerd, the puller and the snapshotter usage (images.ts), the image RPCs, and the
// ImageProvider the pod and container RPCs resolve and ensure images through.
import type { CriDeps, ImageProvider } from "../common/deps.js";
import { nothing, type Feature } from "../common/feature.js";
import { startImages } from "./images.js";
import type { ImagePuller } from "./image-puller.js";
import { imageFsInfo } from "./image-fs-info.js";
import { listImages } from "./image-list.js";
import { pullImage } from "./image-pull.js";
import { removeImage } from "./image-remove.js";
import { imageStatus } from "./image-status.js";
import { imageProvider } from "./image-provider.js";

/** The puller's counters the metrics endpoint reads on a scrape. */
export type PullCounters = Pick<ImagePuller, "transfersRunning" | "bytesPulled">;

export interface ImageApi {
  /** How the pod and container RPCs resolve (and ensure) images. */
  provider: ImageProvider;
  /** Where the snapshotter keeps the writable layers (stats' FilesystemUsage.fs_id). */
  fsMountpoint: string;
  pulls: PullCounters;
}

export async function imageFeature(deps: CriDeps): Promise<Feature<ImageApi>> {
  const images = await startImages(deps);
  return {
    runtime: {},
    image: {
      listImages: listImages(images),
      imageStatus: imageStatus(images),
      pullImage: pullImage(deps.config, images),
      removeImage: removeImage(deps.containerd, images),
      imageFsInfo: imageFsInfo(images),
    },
    start: nothing,
    stop: async () => images.fsUsage.stop(),
    api: { provider: imageProvider(images), fsMountpoint: images.fsUsage.mountpoint, pulls: images.puller },
  };
}
