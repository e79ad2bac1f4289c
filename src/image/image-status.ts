// ImageStatus: the image a reference or id names, with containerd's verbose info JSON.
// An unknown image is an empty response, not an error: kubelet reads "no image" that way.
import { create, toBinary } from "@bufbuild/protobuf";
import { ImageSchema, ImageStatusResponseSchema, type Image } from "../gen/runtime/v1/api_pb.js";
import { EncodedReply } from "../rpc/proto-service.js";
import { WireOut } from "../rpc/wire-out.js";
import { invalidArgument } from "../errors.js";
import { imageUser, verboseImageInfo } from "./image-config.js";
import type { Images } from "./images.js";
import { repoTagsAndDigests } from "./reference.js";
import type { CriImage } from "./image-store.js";
import type { ImageHandlers } from "../common/deps.js";

/**
 * CRI messages of store images. The store replaces an image object whenever it changes, so
 * a message built once per object stays right; ListImages then costs no re-parsing.
 */
const messages = new WeakMap<CriImage, Image>();

/** toCRIImage: repo tags and digests from the image's names, uid or username from its User. */
export function toCriImage(image: CriImage): Image {
  const cached = messages.get(image);
  if (cached) return cached;
  const { repoTags, repoDigests } = repoTagsAndDigests(image.references);
  const user = imageUser(image.config.config?.User);
  const msg = create(ImageSchema, {
    id: image.id,
    repoTags,
    repoDigests,
    size: BigInt(image.size),
    ...(user.uid !== undefined ? { uid: { value: user.uid } } : {}),
    username: user.username,
    pinned: image.pinned,
  });
  messages.set(image, msg);
  return msg;
}

const encoded = new WeakMap<CriImage, Buffer>();

/**
 * The image as field 1 on the wire (tag, length, message), encoded once per store object:
 * ListImagesResponse.images and ImageStatusResponse.image are both field 1, so a list is
 * these concatenated and a status is one of them.
 */
export function encodedImageField(image: CriImage): Buffer {
  let data = encoded.get(image);
  if (!data) encoded.set(image, (data = new WireOut(256).bytes(1, toBinary(ImageSchema, toCriImage(image))).finish()));
  return data;
}

export function imageStatus(images: Images): ImageHandlers["imageStatus"] {
  return async (req) => {
    const ref = req.image?.image ?? "";
    if (ref === "") throw invalidArgument("ImageStatus: image spec is required");
    const image = images.store.resolve(ref);
    if (!image) return {};
    if (!req.verbose) return new EncodedReply(ImageStatusResponseSchema, encodedImageField(image));
    const info: Record<string, string> = {};
    if (req.verbose) info["info"] = verboseImageInfo(image.chainId, image.config);
    return { image: toCriImage(image), info };
  };
}
