// A container's (or pod's) cgroup numbers in one shape, whichever cgroup version they came
// from, with the kubelet's derived values computed as containerd's CRI computes them:
// working set = usage - inactive file (never below 0), available = limit - working set
// when a limit is set, RSS = total_rss (v1) or anon (v2), CPU in nanoseconds.
import { fromBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { MetricsSchema as V1MetricsSchema, type Metrics as V1Metrics } from "../gen/github.com/containerd/cgroups/v3/cgroup1/stats/metrics_pb.js";
import { MetricsSchema as V2MetricsSchema, type Metrics as V2Metrics } from "../gen/github.com/containerd/cgroups/v3/cgroup2/stats/metrics_pb.js";

export interface MemorySample {
  usageBytes: bigint;
  workingSetBytes: bigint;
  /** 0 when the cgroup has no memory limit. */
  availableBytes: bigint;
  rssBytes: bigint;
  pageFaults: bigint;
  majorPageFaults: bigint;
}

export interface SwapSample {
  usageBytes: bigint;
  /** 0 when swap is not limited. */
  availableBytes: bigint;
}

export interface CgroupSample {
  /** Cumulative CPU time of every core, nanoseconds. */
  cpuUsageNs?: bigint;
  memory?: MemorySample;
  swap?: SwapSample;
  /** Tasks in the cgroup (pids.current). */
  pids?: bigint;
}

/**
 * Above this a limit means "unlimited": the kernel reports PAGE_COUNTER_MAX rounded to
 * pages, not 2^63-1 (containerd's isMemoryUnlimited, from cAdvisor).
 */
const UNLIMITED = 1n << 62n;
export const isUnlimited = (limit: bigint) => limit === 0n || limit > UNLIMITED;

const minus = (a: bigint, b: bigint) => (a > b ? a - b : 0n);

export function memorySample(m: { usage: bigint; limit: bigint; inactiveFile: bigint; rss: bigint; pageFaults: bigint; majorPageFaults: bigint }): MemorySample {
  const workingSetBytes = minus(m.usage, m.inactiveFile);
  return {
    usageBytes: m.usage,
    workingSetBytes,
    availableBytes: isUnlimited(m.limit) ? 0n : minus(m.limit, workingSetBytes),
    rssBytes: m.rss,
    pageFaults: m.pageFaults,
    majorPageFaults: m.majorPageFaults,
  };
}

/**
 * v1 swap from the memsw counters, which count memory and swap together: swap in use is
 * memsw usage minus memory usage, and the swap a container may still use is its memsw
 * limit minus its memory limit, minus what it uses.
 */
export function swapSampleV1(memUsage: bigint, memLimit: bigint, memswUsage: bigint, memswLimit: bigint): SwapSample {
  const usageBytes = minus(memswUsage, memUsage);
  const availableBytes = isUnlimited(memswLimit) || isUnlimited(memLimit) ? 0n : minus(minus(memswLimit, memLimit), usageBytes);
  return { usageBytes, availableBytes };
}

export function sampleFromV1(m: V1Metrics): CgroupSample {
  const s: CgroupSample = {};
  if (m.cpu?.usage) s.cpuUsageNs = m.cpu.usage.total;
  const mem = m.memory;
  if (mem?.usage) {
    s.memory = memorySample({
      usage: mem.usage.usage,
      limit: mem.usage.limit,
      inactiveFile: mem.totalInactiveFile,
      rss: mem.totalRss,
      pageFaults: mem.totalPgFault,
      majorPageFaults: mem.totalPgMajFault,
    });
    // Without swap accounting (swapaccount=0) the shim sends no memsw numbers.
    if (mem.swap && (mem.swap.usage > 0n || mem.swap.limit > 0n)) s.swap = swapSampleV1(mem.usage.usage, mem.usage.limit, mem.swap.usage, mem.swap.limit);
  }
  if (m.pids) s.pids = m.pids.current;
  return s;
}

export function sampleFromV2(m: V2Metrics): CgroupSample {
  const s: CgroupSample = {};
  if (m.cpu) s.cpuUsageNs = m.cpu.usageUsec * 1000n;
  const mem = m.memory;
  if (mem) {
    s.memory = memorySample({
      usage: mem.usage,
      limit: mem.usageLimit,
      inactiveFile: mem.inactiveFile,
      rss: mem.anon,
      pageFaults: mem.pgfault,
      majorPageFaults: mem.pgmajfault,
    });
    s.swap = { usageBytes: mem.swapUsage, availableBytes: isUnlimited(mem.swapLimit) ? 0n : minus(mem.swapLimit, mem.swapUsage) };
  }
  if (m.pids) s.pids = m.pids.current;
  return s;
}

export const CGROUPS_V1_METRICS = V1MetricsSchema.typeName;
export const CGROUPS_V2_METRICS = V2MetricsSchema.typeName;

/** A Tasks.Metrics payload, by cgroup version. */
export type CgroupMetrics = { version: 1; v1: V1Metrics } | { version: 2; v2: V2Metrics };

/** Decodes the Any of a Tasks.Metrics entry by its type URL; undefined for another kind (Windows, VMs). */
export function decodeCgroupMetrics(data: Any | undefined): CgroupMetrics | undefined {
  if (!data) return undefined;
  const name = data.typeUrl.slice(data.typeUrl.lastIndexOf("/") + 1);
  if (name === CGROUPS_V1_METRICS) return { version: 1, v1: fromBinary(V1MetricsSchema, data.value) };
  if (name === CGROUPS_V2_METRICS) return { version: 2, v2: fromBinary(V2MetricsSchema, data.value) };
  return undefined;
}

export function sampleOf(m: CgroupMetrics): CgroupSample {
  return m.version === 1 ? sampleFromV1(m.v1) : sampleFromV2(m.v2);
}
