// Cgroup dirs a crash leaves behind. When crib dies while containerd creates a task, the
// shim's Create is cancelled and it kills `runc create` half-way: runc has already made
// the container's cgroup in every hierarchy (nine dirs and the unified one on a cgroup v1
// host), and as runc never finished creating the container, no `runc delete` ever removes
// them. Removing a container or pod therefore removes its cgroup dirs itself, after the
// task is gone: an empty dir goes with rmdir; a process still in it (a runc init whose
// runc was killed) is an orphan of the crash and is killed first.
import { readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { messageOf } from "../errors.js";
import { parseMountInfo } from "../network/netns.js";

const RETRIES = 20;
const RETRY_MS = 50;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Mount points of every cgroup hierarchy (v1 controllers, named v1 hierarchies, v2). */
export function cgroupMountPoints(mountinfo: string): string[] {
  return parseMountInfo(mountinfo)
    .filter((m) => m.fsType === "cgroup" || m.fsType === "cgroup2")
    .map((m) => m.mountPoint);
}

/**
 * The cgroupfs dir of a spec's linux.cgroupsPath, relative to a hierarchy's root; undefined
 * for the systemd driver's "slice:prefix:name" form (systemd removes its own scopes).
 */
export function cgroupfsPath(cgroupsPath: string | undefined): string | undefined {
  if (!cgroupsPath || !cgroupsPath.startsWith("/") || cgroupsPath.includes(":")) return undefined;
  const parts = cgroupsPath.split("/").filter(Boolean);
  // Never a hierarchy's root or anything that climbs out of it.
  if (parts.length === 0 || parts.some((p) => p === "..")) return undefined;
  return "/" + parts.join("/");
}

async function killProcs(dir: string): Promise<void> {
  const procs = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  for (const pid of procs.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* gone already */
    }
  }
}

async function removeDir(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || i >= RETRIES) throw e;
    }
    await killProcs(dir);
    await sleep(RETRY_MS);
  }
}

let mounted: Promise<string[]> | undefined;

/**
 * The cgroup hierarchies' mount points, read once: they are mounted at boot, and reading
 * mountinfo (several threadpool reads) at every RemoveContainer outlasted its containerd
 * calls under load. An unreadable mountinfo is asked again next time.
 */
function hierarchies(): Promise<string[]> {
  mounted ??= readFile("/proc/self/mountinfo", "utf8").then(cgroupMountPoints, () => {
    mounted = undefined;
    return [];
  });
  return mounted;
}

/** Removes a task's cgroup dirs in every hierarchy; missing ones are fine. */
export async function removeCgroupLeftovers(cgroupsPath: string | undefined, logger: Logger, ids: Record<string, string>): Promise<void> {
  const rel = cgroupfsPath(cgroupsPath);
  if (!rel) return;
  await Promise.all(
    (await hierarchies()).map((mnt) =>
      removeDir(join(mnt, rel)).catch((e) => logger.warn("failed to remove a leftover cgroup", { ...ids, cgroup: join(mnt, rel), error: messageOf(e) })),
    ),
  );
}

/**
 * SIGKILLs every process in a task's cgroup (the union over the hierarchies); returns how
 * many. For a task containerd no longer knows, whose `runc init` still waits to be started.
 */
export async function killCgroupProcs(cgroupsPath: string | undefined): Promise<number> {
  const rel = cgroupfsPath(cgroupsPath);
  if (!rel) return 0;
  const lists = await Promise.all((await hierarchies()).map((mnt) => readFile(join(mnt, rel, "cgroup.procs"), "utf8").catch(() => "")));
  const pids = new Set(lists.flatMap((l) => l.split("\n").filter(Boolean)));
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* gone already */
    }
  }
  return pids.size;
}
