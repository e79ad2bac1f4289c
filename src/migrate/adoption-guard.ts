// crib's start-up refuses pods it cannot adopt whole: those whose files live outside its
// root_dir, as when crib is started on its own dirs in front of a containerd whose CRI
// made pods. --adopt-partial (adopt_partial) skips this.
import type { Config } from "../config.js";
import type { Containerd } from "../containerd/client.js";
import { failedPrecondition } from "../errors.js";
import { assessAdoption, refusalReason } from "./adoption.js";
import { takeInventory } from "./inventory.js";

export async function refuseUnadoptablePods(config: Config, cd: Containerd): Promise<void> {
  const inv = await takeInventory(cd, { crib: { root: config.rootDir, state: config.stateDir }, tasks: false });
  const reason = refusalReason(inv, assessAdoption(inv));
  if (reason) throw failedPrecondition(reason);
}
