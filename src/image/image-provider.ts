// The runtime RPCs' view of the image service: a CRI image spec resolved to what a
// container needs (id, a containerd image name, chain id, config), pulling the sandbox
// image when it is missing.
import type { Images } from "./images.js";
import type { CriImage } from "./image-store.js";
import type { ImageProvider, LocalImage } from "../common/deps.js";

function toLocal(img: CriImage): LocalImage {
  return {
    id: img.id,
    // containerd's CRI uses the first reference as the container's image name.
    name: img.references[0] ?? img.id,
    chainId: img.chainId,
    config: img.config.config ?? {},
    references: img.references,
  };
}

export function imageProvider(images: Images): ImageProvider {
  return {
    resolve: (ref) => {
      const img = images.store.resolve(ref);
      return img ? toLocal(img) : undefined;
    },
    ensure: async (ref) => toLocal(await images.puller.ensure(ref)),
  };
}
