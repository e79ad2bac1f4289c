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

/** Images/Create of a name; false when the name exists already. */
export async function createImage(cd: Containerd, name: string, target: Descriptor, labels: Record<string, string>): Promise<boolean> {
  try {
    await cd.images.create({ image: { name, target: descriptorProto(target), labels } });
    return true;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    return false;
  }
}

type StoredImage = { labels: Record<string, string>; target?: { digest: string } | undefined } | undefined;

/**
 * Pure: what createOrUpdateImageReference changes on a name that exists: the target, the
 * managed label if it lacks it, the pinned label if it should have it (a pinned label is
 * never taken away here). `paths` is empty when nothing changes.
 */
export function imageUpdate(old: StoredImage, target: Descriptor, labels: Record<string, string>): { paths: string[]; pinned: boolean } {
  const paths = ["target"];
  if (old?.labels[IMAGE_LABEL] !== labels[IMAGE_LABEL]) paths.push(`labels.${IMAGE_LABEL}`);
  if (old?.labels[PINNED_LABEL] !== labels[PINNED_LABEL] && labels[PINNED_LABEL] === PINNED_LABEL_VALUE) paths.push(`labels.${PINNED_LABEL}`);
  const pinned = isPinned(labels) || isPinned(old?.labels);
  if (old?.target?.digest === target.digest && paths.length < 2) return { paths: [], pinned };
  return { paths, pinned };
}

async function updateExisting(cd: Containerd, name: string, old: StoredImage, target: Descriptor, labels: Record<string, string>): Promise<{ pinned: boolean }> {
  const { paths, pinned } = imageUpdate(old, target, labels);
  if (paths.length > 0) await cd.images.update({ image: { name, target: descriptorProto(target), labels }, updateMask: { paths } });
  return { pinned };
}

/**
 * createOrUpdateImageReference: create the name, or point an existing one at the target
 * (imageUpdate). Returns whether the name ends up pinned, and whether this call created it.
 */
export async function createOrUpdateImage(cd: Containerd, name: string, target: Descriptor, labels: Record<string, string>): Promise<{ pinned: boolean; created: boolean }> {
  if (await createImage(cd, name, target, labels)) return { pinned: isPinned(labels), created: true };
  const old = (await cd.images.get({ name })).image;
  return { ...(await updateExisting(cd, name, old, target, labels)), created: false };
}

export type NameWritten = PromiseSettledResult<{ pinned: boolean; created: boolean }>;

/**
 * createOrUpdateImage for several names at once, in rounds whose calls run together: every
 * Images/Create with `check` alongside; then, if the check passed, Images/Get of the names
 * that existed; then Images/Update of those that need it. A round starts when the previous
 * one is over (so the order of calls does not depend on which answer came first). When the
 * check fails nothing that existed is changed; the caller deletes what was created.
 */
export async function writeImageNames(
  cd: Containerd,
  names: readonly string[],
  target: Descriptor,
  labels: Record<string, string>,
  check: () => Promise<boolean>,
): Promise<{ check: PromiseSettledResult<boolean>; written: NameWritten[] }> {
  const [checked, ...created] = await Promise.allSettled([check(), ...names.map((name) => createImage(cd, name, target, labels))]);
  const written: NameWritten[] = created.map((c) =>
    c.status === "rejected" ? c : { status: "fulfilled", value: { pinned: isPinned(labels), created: c.value } },
  );
  if (checked!.status === "rejected" || !checked!.value) return { check: checked!, written };
  const existing = names.flatMap((name, i) => (created[i]?.status === "fulfilled" && !created[i].value ? [i] : []));
  const olds = await Promise.allSettled(existing.map((i) => cd.images.get({ name: names[i]! })));
  const updates = existing.map((i, k) => {
    const old = olds[k]!;
    return old.status === "rejected" ? Promise.reject(old.reason) : updateExisting(cd, names[i]!, old.value.image, target, labels);
  });
  const updated = await Promise.allSettled(updates);
  existing.forEach((i, k) => {
    const u = updated[k]!;
    written[i] = u.status === "rejected" ? u : { status: "fulfilled", value: { pinned: u.value.pinned, created: false } };
  });
  return { check: checked!, written };
}
