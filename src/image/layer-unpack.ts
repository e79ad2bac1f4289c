// Unpacks an image's layers into committed snapshots named by their chain ids, as
// containerd's unpacker does: for each layer not yet present, Snapshots.Prepare on the
// parent chain, Diff.Apply of the layer blob into the prepared mounts, Snapshots.Commit
// under the chain id. Everything runs under the pull's lease, so GC keeps the work until
// the image record and the config's snapshot label hold it.
import { randomBytes } from "node:crypto";
import type { Containerd } from "../containerd/client.js";
import { CriError, Code, isAlreadyExists, isNotFound, wrap } from "../errors.js";
import { chainId } from "./image-config.js";
import type { Descriptor } from "./image-info.js";

/** containerd's label naming the chain a snapshot is the unpack of (remote snapshotters read it). */
const SNAPSHOT_REF_LABEL = "containerd.io/snapshot.ref";

export interface UnpackRequest {
  snapshotter: string;
  layers: readonly Descriptor[];
  diffIds: readonly string[];
  lease: string;
  signal: AbortSignal;
}

async function exists(cd: Containerd, snapshotter: string, key: string): Promise<boolean> {
  try {
    await cd.snapshots.stat({ snapshotter, key });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw wrap(e, `failed to stat snapshot ${key}`);
  }
}

/** Returns the chain id of the top layer (the image's rootfs parent). */
export async function unpackLayers(cd: Containerd, req: UnpackRequest): Promise<string> {
  if (req.layers.length !== req.diffIds.length) {
    throw new CriError(Code.FAILED_PRECONDITION, `image has ${req.layers.length} layers but its config lists ${req.diffIds.length} diff ids`);
  }
  const { snapshotter, lease } = req;
  let parent = "";
  for (let i = 0; i < req.layers.length; i++) {
    const chain = chainId(req.diffIds.slice(0, i + 1));
    if (req.signal.aborted) throw new CriError(Code.CANCELLED, "unpack cancelled");
    if (!(await exists(cd, snapshotter, chain))) await applyLayer(cd, req.layers[i]!, req.diffIds[i]!, chain, parent, snapshotter, lease);
    parent = chain;
  }
  return parent;
}

async function applyLayer(cd: Containerd, layer: Descriptor, diffId: string, chain: string, parent: string, snapshotter: string, lease: string): Promise<void> {
  const key = `extract-${randomBytes(8).toString("hex")} ${chain}`;
  const labels = { [SNAPSHOT_REF_LABEL]: chain };
  const prepared = await cd.snapshots.prepare({ snapshotter, key, parent, labels }, { lease }).catch((e) => {
    throw wrap(e, `failed to prepare extraction snapshot ${JSON.stringify(key)}`);
  });
  let committed = false;
  try {
    const applied = await cd.diff
      .apply({ diff: { mediaType: layer.mediaType, digest: layer.digest, size: BigInt(layer.size), annotations: layer.annotations ?? {} }, mounts: prepared.mounts }, { lease, timeoutMs: 10 * 60_000 })
      .catch((e) => {
        throw wrap(e, `failed to extract layer ${layer.digest}`);
      });
    if (applied.applied && applied.applied.digest !== diffId) {
      throw new CriError(Code.FAILED_PRECONDITION, `wrong diff id calculated on extraction of layer ${layer.digest}: got ${applied.applied.digest}, config says ${diffId}`);
    }
    try {
      await cd.snapshots.commit({ snapshotter, name: chain, key, labels }, { lease });
      committed = true;
    } catch (e) {
      // Another pull committed the same chain meanwhile: theirs is as good as ours.
      if (!isAlreadyExists(e)) throw wrap(e, `failed to commit snapshot ${chain}`);
    }
  } finally {
    if (!committed) await cd.snapshots.remove({ snapshotter, key }).catch(() => undefined);
  }
}
