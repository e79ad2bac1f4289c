// Which cgroup hierarchy the host mounts: pod resources (UpdatePodSandboxResources) and pod
// stats both read the pod's cgroup files, whose names differ between v1 and v2.
import { access } from "node:fs/promises";
import { join } from "node:path";

export type CgroupMode = "v1" | "v2";
export const CGROUP_ROOT = "/sys/fs/cgroup";

/** v2 when the unified hierarchy is mounted at the root (a hybrid host counts as v1). */
export async function detectCgroupMode(root = CGROUP_ROOT): Promise<CgroupMode> {
  try {
    await access(join(root, "cgroup.controllers"));
    return "v2";
  } catch {
    return "v1";
  }
}
