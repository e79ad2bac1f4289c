// ImageStatus: the image a reference or id names, with containerd's verbose info JSON.
// An unknown image is an empty response, not an error: kubelet reads "no image" that way.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ImageSchema } from "../gen/runtime/v1/api_pb.js";
import { invalidArgument } from "../errors.js";
import { imageUser, verboseImageInfo } from "../image/image-config.js";
import type { Images } from "../image/images.js";
import { repoTagsAndDigests } from "../image/reference.js";
import type { CriImage } from "../store/image-store.js";
import type { ImageHandlers } from "./deps.js";

/** toCRIImage: repo tags and digests from the image's names, uid or username from its User. */
export function toCriImage(image: CriImage): MessageInitShape<typeof ImageSchema> {
  const { repoTags, repoDigests } = repoTagsAndDigests(image.references);
  const user = imageUser(image.config.config?.User);
  return {
    id: image.id,
    repoTags,
    repoDigests,
    size: BigInt(image.size),
    ...(user.uid !== undefined ? { uid: { value: user.uid } } : {}),
    username: user.username,
    pinned: image.pinned,
  };
}

export function imageStatus(images: Images): ImageHandlers["imageStatus"] {
  return async (req) => {
    const ref = req.image?.image ?? "";
    if (ref === "") throw invalidArgument("ImageStatus: image spec is required");
    const image = images.store.resolve(ref);
    if (!image) return {};
    const info: Record<string, string> = {};
    if (req.verbose) info["info"] = verboseImageInfo(image.chainId, image.config);
    return { image: toCriImage(image), info };
  };
}
