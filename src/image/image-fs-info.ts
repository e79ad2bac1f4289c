// ImageFsInfo: usage of the snapshotter images are unpacked into. kubelet reads the first
// entry for image garbage collection, so the configured snapshotter's comes first. Answered
// from the background-refreshed measurement (src/image/image-fs-usage.ts).
import type { Images } from "./images.js";
import type { ImageHandlers } from "../common/deps.js";

export function imageFsInfo(images: Images): ImageHandlers["imageFsInfo"] {
  return async () => {
    const u = await images.fsUsage.current();
    return {
      imageFilesystems: [
        {
          timestamp: u.timestamp,
          fsId: { mountpoint: u.mountpoint },
          usedBytes: { value: u.usedBytes },
          inodesUsed: { value: u.inodesUsed },
        },
      ],
    };
  };
}
