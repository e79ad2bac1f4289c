// The pod cgroup's limits from UpdatePodSandboxResources: what the kubelet sets on the pod
// cgroup (cgroup_parent) is the containers' sum plus the pod overhead, so crib writes the
// same sum. Under the kubelet this rewrites the values it has just written (the CRI says
// the call comes after the kubelet resized the pod cgroup); for any other client it is
// what makes the call take effect. containerd's CRI writes no cgroup here (it only records
// the values and tells NRI): a deliberate difference. A zero field means "not specified"
// (the CRI's convention) and leaves that limit alone.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LinuxContainerResources } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, internal, invalidArgument } from "../errors.js";
import type { CgroupMode } from "../common/cgroup-mode.js";

export interface CgroupWrite {
  /** v1 controller directory ("cpu", "memory"); empty on v2. */
  controller: string;
  file: string;
  value: string;
}

const DEFAULT_CFS_PERIOD = 100_000n;

type Resources = Pick<LinuxContainerResources, "cpuShares" | "cpuQuota" | "cpuPeriod" | "memoryLimitInBytes">;

/** INVALID_ARGUMENT naming the first negative field. */
export function validatePodResources(which: "overhead" | "resources", r: Resources | undefined): void {
  if (!r) return;
  for (const [field, v] of [
    ["cpu_shares", r.cpuShares],
    ["cpu_quota", r.cpuQuota],
    ["cpu_period", r.cpuPeriod],
    ["memory_limit_in_bytes", r.memoryLimitInBytes],
  ] as const) {
    if (v < 0n) throw invalidArgument(`${which}.${field} must not be negative, got ${v}`);
  }
}

/** cgroup v2 cpu.weight for v1 cpu.shares (the conversion runc and the kubelet use). */
export function sharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  return 1n + ((shares - 2n) * 9999n) / 262142n;
}

/** The files to write on the pod cgroup, in order (period before quota). */
export function podCgroupWrites(mode: CgroupMode, resources: Resources | undefined, overhead: Resources | undefined): CgroupWrite[] {
  if (!resources) return [];
  const ov = {
    cpuShares: overhead?.cpuShares ?? 0n,
    cpuQuota: overhead && overhead.cpuQuota > 0n ? overhead.cpuQuota : 0n,
    memory: overhead?.memoryLimitInBytes ?? 0n,
  };
  const out: CgroupWrite[] = [];
  const shares = resources.cpuShares > 0n ? resources.cpuShares + ov.cpuShares : 0n;
  const period = resources.cpuPeriod > 0n ? resources.cpuPeriod : DEFAULT_CFS_PERIOD;
  const quota = resources.cpuQuota > 0n ? resources.cpuQuota + ov.cpuQuota : 0n;
  const memory = resources.memoryLimitInBytes > 0n ? resources.memoryLimitInBytes + ov.memory : 0n;
  if (mode === "v1") {
    if (shares > 0n) out.push({ controller: "cpu", file: "cpu.shares", value: String(shares) });
    if (quota > 0n) {
      out.push({ controller: "cpu", file: "cpu.cfs_period_us", value: String(period) });
      out.push({ controller: "cpu", file: "cpu.cfs_quota_us", value: String(quota) });
    }
    if (memory > 0n) out.push({ controller: "memory", file: "memory.limit_in_bytes", value: String(memory) });
  } else {
    if (shares > 0n) out.push({ controller: "", file: "cpu.weight", value: String(sharesToWeight(shares)) });
    if (quota > 0n) out.push({ controller: "", file: "cpu.max", value: `${quota} ${period}` });
    if (memory > 0n) out.push({ controller: "", file: "memory.max", value: String(memory) });
  }
  return out;
}

/** Writes them under the pod cgroup; EBUSY (a memory limit below what the pod uses) is FAILED_PRECONDITION. */
export async function applyCgroupWrites(root: string, cgroupParent: string, writes: CgroupWrite[]): Promise<void> {
  const rel = cgroupParent.replace(/^\/+/, "");
  for (const w of writes) {
    const path = join(root, w.controller, rel, w.file);
    await writeFile(path, w.value).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "EBUSY" || e.code === "EINVAL") throw failedPrecondition(`failed to set ${w.file}=${w.value} on the pod cgroup ${cgroupParent}: ${e.code} (below current usage or out of range)`);
      throw internal(`failed to set ${w.file}=${w.value} on the pod cgroup ${cgroupParent}: ${e.message}`, e);
    });
  }
}
