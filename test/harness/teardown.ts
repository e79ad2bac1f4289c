// Leaves the machine as the run found it: containers, shims, mounts, the CNI bridge and
// the temp dir go, even after a crash. Every step tolerates "already gone".
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pidAlive, pidsMentioning, run } from "./proc.js";

export const TMP_PREFIX = "crib-test-";
export const HARNESS_PID_FILE = "harness.pid";
/** Where containerd 2.x's runc shim keeps runc state: <root>/<namespace>/<id>. */
const RUNC_STATE_ROOT = "/run/containerd/runc";

export interface TeardownOptions {
  runc: string;
  bridge?: string;
  keepDir?: boolean;
  log?: (msg: string) => void;
}

/** The daemons are stopped already (or dead); clears what they left behind. */
export async function cleanUpRunDir(tmpDir: string, opts: TeardownOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const step = async (what: string, fn: () => Promise<void>) => {
    const t = Date.now();
    try {
      await fn();
      if (process.env.CRIB_HARNESS_TRACE) log(`teardown: ${what}: ${Date.now() - t}ms`);
    } catch (err) {
      log(`teardown: ${what}: ${(err as Error).message}`);
    }
  };
  await step("delete containers", () => deleteRuncContainers(tmpDir, opts.runc));
  await step("kill leftovers", () => killProcessesMentioning(tmpDir));
  await step("unmount", async () => unmountUnder(tmpDir));
  if (opts.bridge) await step("delete bridge", () => deleteLink(opts.bridge!));
  if (!opts.keepDir) await step("remove temp dir", () => removeDir(tmpDir));
}

/**
 * Containers whose bundle lives under the run's state dirs: `runc delete --force` kills
 * their processes and removes their cgroups and runc state, which a killed shim leaves.
 */
async function deleteRuncContainers(tmpDir: string, runc: string): Promise<void> {
  if (!existsSync(RUNC_STATE_ROOT)) return;
  for (const ns of readdirSync(RUNC_STATE_ROOT)) {
    const root = join(RUNC_STATE_ROOT, ns);
    let list: Array<{ id: string; bundle: string }> | null;
    try {
      list = JSON.parse((await run(runc, ["--root", root, "list", "-f", "json"])).stdout || "null");
    } catch {
      continue;
    }
    const ours = (list ?? []).filter((c) => c.bundle.startsWith(tmpDir + "/"));
    for (const c of ours) await run(runc, ["--root", root, "delete", "--force", c.id]).catch(() => {});
    // The namespace folder goes too once nobody else's containers are in it.
    if (ours.length > 0) rmdirQuietly(root);
  }
}

function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty: another containerd's containers live there
  }
}

/** Shims, containerds, registries, crib instances: anything started with a path of this run. */
async function killProcessesMentioning(tmpDir: string): Promise<void> {
  const pids = pidsMentioning(tmpDir + "/");
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  const deadline = Date.now() + 3000;
  while (pids.some(pidAlive) && Date.now() < deadline) await sleep(20);
}

/** Mount points at or below dir, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string, mountinfo: string): string[] {
  const found: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const field = line.split(" ")[4];
    if (!field) continue;
    const mnt = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mnt === dir || mnt.startsWith(dir + "/")) found.push(mnt);
  }
  return found.sort((a, b) => b.length - a.length);
}

function unmountUnder(dir: string): void {
  // Lazy unmount detaches even when a straggler still holds the mount busy.
  for (let pass = 0; pass < 3; pass++) {
    const mounts = mountsUnder(dir, readFileSync("/proc/self/mountinfo", "utf8"));
    if (mounts.length === 0) return;
    for (const m of mounts) {
      try {
        runSyncUmount(m);
      } catch {
        // retried in the next pass
      }
    }
  }
}

function runSyncUmount(path: string): void {
  const r = spawnSync("umount", ["-l", path], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`umount -l ${path} failed`);
}

async function deleteLink(name: string): Promise<void> {
  const show = spawnSync("ip", ["link", "show", name], { stdio: "ignore" });
  if (show.status !== 0) return;
  await run("ip", ["link", "delete", name]);
}

async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      return;
    } catch (err) {
      if (attempt >= 2) throw err;
      unmountUnder(dir);
      await sleep(200);
    }
  }
}

/**
 * Run dirs of harnesses that died without tearing down (SIGKILL, OOM, power loss of the
 * terminal): their harness.pid names a process that no longer runs.
 */
export function abandonedRunDirs(tmpRoot = "/tmp"): string[] {
  const dirs: string[] = [];
  for (const entry of readdirSync(tmpRoot)) {
    if (!entry.startsWith(TMP_PREFIX)) continue;
    const dir = join(tmpRoot, entry);
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, HARNESS_PID_FILE), "utf8").trim());
    } catch {
      continue; // not ours, or being created right now
    }
    if (pid > 0 && !pidAlive(pid)) dirs.push(dir);
  }
  return dirs;
}
