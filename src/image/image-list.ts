// ListImages: every image in the store; a filter with an image spec narrows the list to
// the image it names (containerd ignores the filter; CRI-O and crictl expect it honoured).
import type { Images } from "./images.js";
import type { ImageHandlers } from "../common/deps.js";
import { encodedImageField } from "./image-status.js";
import { ListImagesResponseSchema } from "../gen/runtime/v1/api_pb.js";
import { EncodedReply } from "../rpc/proto-service.js";

export function listImages(images: Images): ImageHandlers["listImages"] {
  return async (req) => {
    const wanted = req.filter?.image?.image ?? "";
    const list = wanted === "" ? images.store.list() : [images.store.resolve(wanted)].filter((i) => i !== undefined);
    return new EncodedReply(ListImagesResponseSchema, Buffer.concat(list.map(encodedImageField)));
  };
}
