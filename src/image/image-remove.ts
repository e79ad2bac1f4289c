// RemoveImage: deletes every containerd name of the image (tags, digests, the id), the
// last one synchronously so containerd's garbage collector frees its content and
// snapshots before the call returns. Removing an unknown image succeeds (kubelet retries).
import type { Containerd } from "../containerd/client.js";
import { invalidArgument, isNotFound, wrap } from "../errors.js";
import type { Images } from "./images.js";
import type { ImageHandlers } from "../common/deps.js";

export async function removeImageNames(cd: Containerd, images: Images, id: string, names: readonly string[]): Promise<void> {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    try {
      await cd.images.delete({ name, sync: i === names.length - 1 });
    } catch (e) {
      if (!isNotFound(e)) throw wrap(e, `failed to delete image reference ${JSON.stringify(name)} for ${JSON.stringify(id)}`);
    }
    images.store.forget(name);
  }
}

export function removeImage(cd: Containerd, images: Images): ImageHandlers["removeImage"] {
  return async (req) => {
    const ref = req.image?.image ?? "";
    if (ref === "") throw invalidArgument("RemoveImage: image spec is required");
    const image = images.store.resolve(ref);
    if (!image) return {};
    await removeImageNames(cd, images, image.id, image.references);
    return {};
  };
}
