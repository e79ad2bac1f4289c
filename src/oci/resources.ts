// Cgroup placement and resource limits (customopts.WithResources, WithOOMScoreAdj,
// WithPodOOMScoreAdj, getCgroupsPath).
import { exactInt } from "../containerd/exact-json.js";
import { failedPrecondition } from "../errors.js";
import type { LinuxContainerResources } from "../gen/runtime/v1/api_pb.js";
import { joinPath, pathBase } from "./go-path.js";
import type { OciResources } from "./spec-types.js";

/** cpu.shares of every pause container (customopts.DefaultSandboxCPUshares). */
export const DEFAULT_SANDBOX_CPU_SHARES = 2;
/** oom_score_adj of every pause container (kubernetes#47938). */
export const DEFAULT_SANDBOX_OOM_SCORE_ADJ = -998;

/**
 * The cgroups path for `id` under the kubelet's cgroup parent. A parent whose last element
 * is a systemd slice ("kubepods-besteffort-pod<uid>.slice") gives runc's systemd form
 * "<slice>:cri-containerd:<id>"; any other parent ("/kubepods/besteffort/pod<uid>") gives
 * the cgroupfs path "<parent>/<id>". Same prefix as containerd, so each can manage the
 * other's containers. The kubelet's cgroup driver decides the parent's shape, so the
 * driver needs no separate input.
 */
export function cgroupsPath(cgroupParent: string, id: string): string {
  const base = pathBase(cgroupParent);
  if (base.endsWith(".slice")) return `${base}:cri-containerd:${id}`;
  return joinPath(cgroupParent, id);
}

/** restrict_oom_score_adj: a score below crib's own would let the kernel spare the pod over crib. */
export function oomScoreAdj(preferred: number, restrict: boolean, current: number): number {
  return restrict && preferred < current ? current : preferred;
}

export interface ResourceHostFacts {
  swapControllerAvailable: boolean;
  hugetlbControllerPresent: boolean;
  disableHugetlbController: boolean;
  tolerateMissingHugetlbController: boolean;
}

type CriResources = Pick<
  LinuxContainerResources,
  | "cpuPeriod"
  | "cpuQuota"
  | "cpuShares"
  | "memoryLimitInBytes"
  | "memorySwapLimitInBytes"
  | "cpusetCpus"
  | "cpusetMems"
  | "hugepageLimits"
  | "unified"
>;

/**
 * Applies CRI container resources. Zero means "unset" for every number, as in
 * containerd; a memory limit without a swap limit also caps swap (no swapping by
 * default) when the swap controller exists. Hugepage limits are skipped while
 * disable_hugetlb_controller is on (containerd's default).
 */
export function applyCriResources(
  existing: OciResources | undefined,
  r: CriResources | undefined,
  host: ResourceHostFacts,
): OciResources | undefined {
  if (!r) return existing;
  const out: OciResources = { ...existing, cpu: { ...existing?.cpu }, memory: { ...existing?.memory } };
  const cpu = out.cpu!;
  const memory = out.memory!;
  // Exact values (bigints past 2^53); the validators refuse negative unsigned ones first.
  if (r.cpuPeriod !== 0n) cpu.period = exactInt(BigInt.asUintN(64, r.cpuPeriod));
  if (r.cpuQuota !== 0n) cpu.quota = exactInt(r.cpuQuota);
  if (r.cpuShares !== 0n) cpu.shares = exactInt(BigInt.asUintN(64, r.cpuShares));
  if (r.cpusetCpus !== "") cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems !== "") cpu.mems = r.cpusetMems;
  const limit = r.memoryLimitInBytes;
  const swap = r.memorySwapLimitInBytes;
  if (limit !== 0n) {
    memory.limit = exactInt(limit);
    if (swap === 0n && host.swapControllerAvailable) memory.swap = exactInt(limit);
  }
  if (swap !== 0n && host.swapControllerAvailable) memory.swap = exactInt(swap);

  if (!host.disableHugetlbController) {
    if (host.hugetlbControllerPresent) {
      const limits = r.hugepageLimits.map((h) => ({ pageSize: h.pageSize, limit: exactInt(BigInt.asUintN(64, h.limit)) }));
      if (limits.length > 0) out.hugepageLimits = [...(out.hugepageLimits ?? []), ...limits];
    } else if (!host.tolerateMissingHugetlbController) {
      // containerd refuses here even when this container asks for no huge pages.
      throw failedPrecondition(
        "huge pages limits are specified but hugetlb cgroup controller is missing. " +
          "Please set tolerate_missing_hugetlb_controller to `true` to ignore this error",
      );
    }
  }
  if (Object.keys(r.unified).length > 0) out.unified = { ...out.unified, ...r.unified };
  return out;
}
