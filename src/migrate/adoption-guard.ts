// crib's start-up refuses pods it cannot adopt whole: those whose files live outside its
// root_dir, as when crib is started on its own dirs in front of a containerd whose CRI
// made pods. --adopt-partial (adopt_partial) skips this.
import type { Config } from "../config.js";
import type { Containerd } from "../containerd/client.js";
import { failedPrecondition } from "../errors.js";
import { assessAdoption, refusalReason } from "./adoption.js";
import { podFilesIn, takeInventory } from "./inventory.js";
import { decodeSandboxMetadata, SANDBOX_METADATA_EXTENSION } from "../pod/sandbox-metadata.js";
import { KIND_LABEL, KIND_SANDBOX } from "../common/labels.js";

/**
 * Whether every pod's files are under crib's root_dir (no pod is foreign): the common case,
 * checked from the pod records alone. The full inventory reads every container record and
 * parses its spec (seconds with hundreds of containers), and is only needed to word a refusal.
 */
async function allPodsOwned(config: Config, cd: Containerd): Promise<boolean> {
  const { containers } = await cd.containers.list({ filters: [`labels."${KIND_LABEL}"==${KIND_SANDBOX}`] });
  // A record without readable metadata is no pod for the inventory either (it is "unreadable").
  const ids = containers.filter((r) => decodeSandboxMetadata(r.extensions[SANDBOX_METADATA_EXTENSION])).map((r) => r.id);
  return (await Promise.all(ids.map((id) => podFilesIn(config.rootDir, id)))).every(Boolean);
}

export async function refuseUnadoptablePods(config: Config, cd: Containerd): Promise<void> {
  if (await allPodsOwned(config, cd)) return;
  const inv = await takeInventory(cd, { crib: { root: config.rootDir, state: config.stateDir }, tasks: false });
  const reason = refusalReason(inv, assessAdoption(inv));
  if (reason) throw failedPrecondition(reason);
}
