// ListImages: every image in the store; a filter with an image spec narrows the list to
// the image it names (containerd ignores the filter; CRI-O and crictl expect it honoured).
import type { Images } from "./images.js";
import type { ImageHandlers } from "../common/deps.js";
import { toCriImage } from "./image-status.js";

export function listImages(images: Images): ImageHandlers["listImages"] {
  return async (req) => {
    const wanted = req.filter?.image?.image ?? "";
    const list = wanted === "" ? images.store.list() : [images.store.resolve(wanted)].filter((i) => i !== undefined);
    return { images: list.map(toCriImage) };
  };
}
