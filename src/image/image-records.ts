// The containerd image records ("images" in containerd's metadata) that make up a CRI
// image, labelled as containerd's CRI labels them. A pull of "x:tag" leaves three names on
// one target: x:tag, x@sha256:<manifest or index digest>, and sha256:<config digest>.
import type { Containerd } from "../containerd/client.js";
import { isAlreadyExists } from "../errors.js";
import type { Descriptor } from "./image-info.js";

export const IMAGE_LABEL = "io.cri-containerd.image";
export const IMAGE_LABEL_MANAGED = "managed";
export const PINNED_LABEL = "io.cri-containerd.pinned";
export const PINNED_LABEL_VALUE = "pinned";

/** getLabels: every CRI image is "managed"; the names in `pinned` (the sandbox image) are pinned too. */
export function criImageLabels(name: string, pinned: ReadonlySet<string>): Record<string, string> {
  const labels: Record<string, string> = { [IMAGE_LABEL]: IMAGE_LABEL_MANAGED };
  if (pinned.has(name)) labels[PINNED_LABEL] = PINNED_LABEL_VALUE;
  return labels;
}

export function isPinned(labels: Record<string, string> | undefined): boolean {
  return labels?.[PINNED_LABEL] === PINNED_LABEL_VALUE;
}

export function descriptorProto(d: Descriptor) {
  return { mediaType: d.mediaType, digest: d.digest, size: BigInt(d.size), annotations: d.annotations ?? {} };
}

export function descriptorFromProto(d: { mediaType: string; digest: string; size: bigint; annotations: Record<string, string> } | undefined): Descriptor | undefined {
  if (!d) return undefined;
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: Number(d.size) };
  if (Object.keys(d.annotations).length > 0) out.annotations = d.annotations;
  return out;
}

/**
 * createOrUpdateImageReference: create the name, or point an existing one at the target,
 * adding the managed label if it lacks it and the pinned label if it should have it (a
 * pinned label is never taken away here). Returns whether the name ends up pinned, and
 * whether this call created it.
 */
export async function createOrUpdateImage(cd: Containerd, name: string, target: Descriptor, labels: Record<string, string>): Promise<{ pinned: boolean; created: boolean }> {
  const image = { name, target: descriptorProto(target), labels };
  try {
    await cd.images.create({ image });
    return { pinned: isPinned(labels), created: true };
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  const old = (await cd.images.get({ name })).image;
  const paths = ["target"];
  if (old?.labels[IMAGE_LABEL] !== labels[IMAGE_LABEL]) paths.push(`labels.${IMAGE_LABEL}`);
  if (old?.labels[PINNED_LABEL] !== labels[PINNED_LABEL] && labels[PINNED_LABEL] === PINNED_LABEL_VALUE) paths.push(`labels.${PINNED_LABEL}`);
  const pinned = isPinned(labels) || isPinned(old?.labels);
  if (old?.target?.digest === target.digest && paths.length < 2) return { pinned, created: false };
  await cd.images.update({ image, updateMask: { paths } });
  return { pinned, created: false };
}
