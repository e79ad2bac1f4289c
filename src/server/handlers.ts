// Which CRI RPCs crib serves and the long-lived services behind them. An RPC missing here
// answers UNIMPLEMENTED (the kubelet falls back only on that code).
import type { CriDeps, ImageHandlers, RuntimeHandlers } from "../cri/deps.js";
import { runtimeConfig } from "../cri/runtime-config.js";
import { status } from "../cri/runtime-status.js";
import { version } from "../cri/runtime-version.js";
import { startImages, type Images } from "../image/images.js";
import { imageFsInfo } from "../cri/image-fs-info.js";
import { listImages } from "../cri/image-list.js";
import { pullImage } from "../cri/image-pull.js";
import { removeImage } from "../cri/image-remove.js";
import { imageStatus } from "../cri/image-status.js";

/** Long-lived state (stores, background loops) created once at start. */
export interface Services {
  images: Images;
  stop(): Promise<void>;
}

export async function startServices(deps: CriDeps): Promise<Services> {
  const images = await startImages(deps);
  return { images, stop: async () => {} };
}

export function runtimeHandlers(deps: CriDeps, _s: Services): Partial<RuntimeHandlers> {
  return {
    version: version(deps),
    status: status(deps),
    runtimeConfig: runtimeConfig(deps),
  };
}

export function imageHandlers(deps: CriDeps, s: Services): Partial<ImageHandlers> {
  return {
    listImages: listImages(s.images),
    imageStatus: imageStatus(s.images),
    pullImage: pullImage(deps.config, s.images),
    removeImage: removeImage(deps.containerd, s.images),
    imageFsInfo: imageFsInfo(s.images),
  };
}
