// The pod's own cgroup numbers, read from the cgroup filesystem as containerd's CRI reads
// them: the kubelet puts every container of a pod under the pod's cgroup_parent, so that
// cgroup's CPU and memory are the pod's, pause included. One read of a few small files
// per pod; no containerd call. An empty cgroup_parent (a pod not made by the kubelet)
// gives no pod-level numbers, as in containerd.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CGROUP_ROOT, type CgroupMode } from "../common/cgroup-mode.js";
import { type CgroupSample, isUnlimited, memorySample, swapSampleV1 } from "./cgroup-sample.js";

/** "key value" lines (memory.stat, cpu.stat). */
export function parseFlatKeyed(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v && /^\d+$/.test(v)) out.set(k, BigInt(v));
  }
  return out;
}

/** A single-number file; "max" (v2's no limit) is 0, which isUnlimited treats as unlimited. */
function num(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === "max") return 0n;
  return /^\d+$/.test(t) ? BigInt(t) : undefined;
}

/** File contents of one cgroup, keyed by file name; missing files are undefined. */
export type CgroupFiles = Record<string, string | undefined>;

export const V1_FILES = {
  cpuacct: ["cpuacct.usage"],
  memory: ["memory.usage_in_bytes", "memory.limit_in_bytes", "memory.stat", "memory.memsw.usage_in_bytes", "memory.memsw.limit_in_bytes"],
  pids: ["pids.current"],
} as const;
export const V2_FILES = ["cpu.stat", "memory.current", "memory.max", "memory.stat", "memory.swap.current", "memory.swap.max", "pids.current"] as const;

export function sampleFromV1Files(f: CgroupFiles): CgroupSample {
  const s: CgroupSample = {};
  const cpu = num(f["cpuacct.usage"]);
  if (cpu !== undefined) s.cpuUsageNs = cpu;
  const usage = num(f["memory.usage_in_bytes"]);
  const limit = num(f["memory.limit_in_bytes"]) ?? 0n;
  if (usage !== undefined) {
    const stat = parseFlatKeyed(f["memory.stat"] ?? "");
    s.memory = memorySample({
      usage,
      limit,
      inactiveFile: stat.get("total_inactive_file") ?? 0n,
      rss: stat.get("total_rss") ?? 0n,
      pageFaults: stat.get("total_pgfault") ?? 0n,
      majorPageFaults: stat.get("total_pgmajfault") ?? 0n,
    });
    const memswUsage = num(f["memory.memsw.usage_in_bytes"]);
    const memswLimit = num(f["memory.memsw.limit_in_bytes"]);
    if (memswUsage !== undefined && memswLimit !== undefined) s.swap = swapSampleV1(usage, limit, memswUsage, memswLimit);
  }
  const pids = num(f["pids.current"]);
  if (pids !== undefined) s.pids = pids;
  return s;
}

export function sampleFromV2Files(f: CgroupFiles): CgroupSample {
  const s: CgroupSample = {};
  const cpu = parseFlatKeyed(f["cpu.stat"] ?? "").get("usage_usec");
  if (cpu !== undefined) s.cpuUsageNs = cpu * 1000n;
  const usage = num(f["memory.current"]);
  if (usage !== undefined) {
    const stat = parseFlatKeyed(f["memory.stat"] ?? "");
    s.memory = memorySample({
      usage,
      limit: num(f["memory.max"]) ?? 0n,
      inactiveFile: stat.get("inactive_file") ?? 0n,
      rss: stat.get("anon") ?? 0n,
      pageFaults: stat.get("pgfault") ?? 0n,
      majorPageFaults: stat.get("pgmajfault") ?? 0n,
    });
    const swapUsage = num(f["memory.swap.current"]);
    if (swapUsage !== undefined) {
      const swapLimit = num(f["memory.swap.max"]) ?? 0n;
      s.swap = { usageBytes: swapUsage, availableBytes: isUnlimited(swapLimit) || swapLimit < swapUsage ? 0n : swapLimit - swapUsage };
    }
  }
  const pids = num(f["pids.current"]);
  if (pids !== undefined) s.pids = pids;
  return s;
}

const readOptional = (path: string) => readFile(path, "utf8").catch(() => undefined);

/** The pod cgroup's sample; undefined when the cgroup does not exist (any more). */
export async function readCgroupSample(mode: CgroupMode, cgroupPath: string, root = CGROUP_ROOT): Promise<CgroupSample | undefined> {
  const rel = cgroupPath.replace(/^\/+/, "");
  const files: CgroupFiles = {};
  if (mode === "v2") {
    const dir = join(root, rel);
    await Promise.all(V2_FILES.map(async (name) => (files[name] = await readOptional(join(dir, name)))));
    if (files["cpu.stat"] === undefined && files["memory.current"] === undefined) return undefined;
    return sampleFromV2Files(files);
  }
  const reads: Promise<void>[] = [];
  for (const [controller, names] of Object.entries(V1_FILES)) {
    for (const name of names) reads.push(readOptional(join(root, controller, rel, name)).then((t) => void (files[name] = t)));
  }
  await Promise.all(reads);
  if (files["cpuacct.usage"] === undefined && files["memory.usage_in_bytes"] === undefined) return undefined;
  return sampleFromV1Files(files);
}

/** Lines of a cgroup.procs file: the processes (not threads) directly in that cgroup. */
export function countProcs(text: string): number {
  return text.split("\n").filter((l) => /^\d+$/.test(l.trim())).length;
}

/**
 * Processes in the pod cgroup and below, leaving out the cgroups `skip` names (the pause
 * container's): a few cgroup.procs reads instead of one Tasks.ListPids per container.
 * Undefined when the pod cgroup does not exist.
 */
export async function countPodProcesses(mode: CgroupMode, cgroupPath: string, skip: (dirName: string) => boolean, root = CGROUP_ROOT): Promise<bigint | undefined> {
  const rel = cgroupPath.replace(/^\/+/, "");
  const top = mode === "v2" ? join(root, rel) : join(root, "pids", rel);
  const walk = async (dir: string, depth: number): Promise<number | undefined> => {
    const procs = await readOptional(join(dir, "cgroup.procs"));
    if (procs === undefined) return undefined;
    let n = countProcs(procs);
    if (depth < 4) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      // The containers' cgroups are read at once: one after the other, a pod of 10 containers
      // took 20 threadpool round trips in a row.
      const counts = await Promise.all(entries.filter((e) => e.isDirectory() && !skip(e.name)).map((e) => walk(join(dir, e.name), depth + 1)));
      for (const c of counts) n += c ?? 0;
    }
    return n;
  };
  const n = await walk(top, 0);
  return n === undefined ? undefined : BigInt(n);
}
