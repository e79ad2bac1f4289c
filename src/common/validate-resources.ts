// Container resources checked against what runc and the kernel accept, at the RPC that
// carries them (CreateContainer, UpdateContainerResources), so a bad value is refused
// with INVALID_ARGUMENT naming the field instead of failing later at StartContainer (or
// in Tasks.Update) with UNKNOWN. 0 leaves a value unset, as in containerd.
import type { LinuxContainerResources } from "../gen/runtime/v1/api_pb.js";
import { invalidArgument } from "../errors.js";

/** The host facts the checks need (see validate-host-facts.ts). */
export interface ResourceValidationFacts {
  cgroupV2: boolean;
  /** CPUs and memory nodes a cpuset may name (undefined: unknown, not checked). */
  onlineCpus?: ReadonlySet<number> | undefined;
  onlineMems?: ReadonlySet<number> | undefined;
}

/** cpu.shares bounds of the kernel (MIN_SHARES, MAX_SHARES); runc maps them onto cpu.weight. */
export const CPU_SHARES_MIN = 2n;
export const CPU_SHARES_MAX = 262144n;
/** cpu.cfs_period_us bounds (1 ms .. 1 s). */
export const CPU_PERIOD_MIN = 1000n;
export const CPU_PERIOD_MAX = 1_000_000n;
/** cpu.cfs_quota_us: at least 1 ms, at most the kernel's max_cfs_runtime (2^44-1 µs); -1 is unlimited. */
export const CPU_QUOTA_MIN = 1000n;
export const CPU_QUOTA_MAX = (1n << 44n) - 1n;
/**
 * The smallest memory limit: Docker's linuxMinMemory (6 MiB). Below it runc's init and the
 * container's first process do not fit, and the container dies of OOM at start (or runc
 * fails) instead of the request being refused.
 */
export const MEMORY_MIN = 6n * 1024n * 1024n;
export const OOM_SCORE_ADJ_MIN = -1000n;
export const OOM_SCORE_ADJ_MAX = 1000n;

const inRange = (v: bigint, lo: bigint, hi: bigint) => v >= lo && v <= hi;

/**
 * A cpuset list ("0-3,5,7-8") as the numbers it names, or a reason it is malformed.
 * The kernel's bitmap_parselist syntax without strides.
 */
export function parseCpuList(s: string): number[] | string {
  const out: number[] = [];
  for (const part of s.split(",")) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!m) return `malformed element ${JSON.stringify(part)} (expected N or N-M, comma-separated)`;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return `range ${JSON.stringify(part)} runs backwards`;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

function checkCpuset(path: string, value: string, online: ReadonlySet<number> | undefined, what: string): void {
  if (value === "") return;
  const parsed = parseCpuList(value);
  if (typeof parsed === "string") throw invalidArgument(`${path}: ${JSON.stringify(value)} is not a cpuset list: ${parsed}`);
  const missing = online ? parsed.filter((n) => !online.has(n)) : [];
  if (missing.length > 0) {
    const have = [...(online ?? [])].sort((a, b) => a - b).join(",");
    throw invalidArgument(`${path}: ${what} ${missing.join(",")} of ${JSON.stringify(value)} not online on this host (online: ${have})`);
  }
}

/** A cgroup v2 interface file name ("memory.high"): the key is written as a file of the container's cgroup. */
const UNIFIED_KEY = /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/;

/** Every check of LinuxContainerResources; `path` names the message ("config.linux.resources"). */
export function validateLinuxResources(r: LinuxContainerResources | undefined, path: string, host: ResourceValidationFacts): void {
  if (!r) return;
  const f = (name: string) => `${path}.${name}`;
  if (r.cpuShares !== 0n && !inRange(r.cpuShares, CPU_SHARES_MIN, CPU_SHARES_MAX))
    throw invalidArgument(`${f("cpu_shares")}: ${r.cpuShares} is outside ${CPU_SHARES_MIN}..${CPU_SHARES_MAX} (0 leaves it unset)`);
  if (r.cpuPeriod !== 0n && !inRange(r.cpuPeriod, CPU_PERIOD_MIN, CPU_PERIOD_MAX))
    throw invalidArgument(`${f("cpu_period")}: ${r.cpuPeriod} is outside ${CPU_PERIOD_MIN}..${CPU_PERIOD_MAX} µs (0 leaves it unset)`);
  if (r.cpuQuota !== 0n && r.cpuQuota !== -1n && !inRange(r.cpuQuota, CPU_QUOTA_MIN, CPU_QUOTA_MAX))
    throw invalidArgument(`${f("cpu_quota")}: ${r.cpuQuota} is outside ${CPU_QUOTA_MIN}..${CPU_QUOTA_MAX} µs (-1: unlimited, 0 leaves it unset)`);
  const mem = r.memoryLimitInBytes;
  if (mem !== 0n && mem !== -1n && mem < MEMORY_MIN)
    throw invalidArgument(`${f("memory_limit_in_bytes")}: ${mem} is below the minimum of ${MEMORY_MIN} bytes (6 MiB; -1: unlimited, 0 leaves it unset)`);
  const swap = r.memorySwapLimitInBytes;
  if (swap !== 0n && swap !== -1n) {
    if (swap < 0n) throw invalidArgument(`${f("memory_swap_limit_in_bytes")}: ${swap} is negative (-1: unlimited, 0 leaves it unset)`);
    if (mem <= 0n) throw invalidArgument(`${f("memory_swap_limit_in_bytes")}: ${swap} needs a memory_limit_in_bytes (memory + swap cannot be limited below unlimited memory)`);
    if (swap < mem) throw invalidArgument(`${f("memory_swap_limit_in_bytes")}: ${swap} is below memory_limit_in_bytes ${mem} (it limits memory + swap)`);
  }
  if (!inRange(r.oomScoreAdj, OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX))
    throw invalidArgument(`${f("oom_score_adj")}: ${r.oomScoreAdj} is outside ${OOM_SCORE_ADJ_MIN}..${OOM_SCORE_ADJ_MAX}`);
  checkCpuset(f("cpuset_cpus"), r.cpusetCpus, host.onlineCpus, "CPU(s)");
  checkCpuset(f("cpuset_mems"), r.cpusetMems, host.onlineMems, "memory node(s)");
  r.hugepageLimits.forEach((h, i) => {
    if (!/^\d+[KMGTP]?B$/.test(h.pageSize)) throw invalidArgument(`${f(`hugepage_limits[${i}].page_size`)}: ${JSON.stringify(h.pageSize)} is not a page size such as "2MB" or "1GB"`);
  });
  const keys = Object.keys(r.unified);
  if (keys.length > 0 && !host.cgroupV2)
    throw invalidArgument(`${f("unified")}: cgroup v2 settings (${keys.join(", ")}) cannot be applied on this cgroup v1 host`);
  for (const k of keys) {
    if (!UNIFIED_KEY.test(k)) throw invalidArgument(`${f("unified")}: key ${JSON.stringify(k)} is not a cgroup v2 interface file name (controller.name)`);
  }
}
