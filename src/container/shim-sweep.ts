// Shims a crash leaves running. When crib dies while containerd 2.1 creates a pod's pause
// task, containerd's Tasks.Create is cancelled with crib's connection. If that happens
// while containerd starts the shim (`containerd-shim-runc-v2 start` has forked the shim
// daemon, containerd has not yet connected to it or added it to its shim list),
// ShimManager.Start returns the error without stopping the daemon and TaskManager.Create
// deletes the task's bundle: a shim process containerd no longer knows, with no task and
// no container, serving a socket under /run/containerd/s. No containerd call reaches it:
// Tasks.Delete answers NotFound (not in the shim list), and containerd's own clean-up at
// its start only walks bundles that still exist. What works is what containerd does to a
// shim it gives up on: SIGTERM (the shim shuts down and removes its socket), SIGKILL if
// it outlives a grace.
//
// An orphan is a containerd-shim-* process started for crib's namespace and containerd
// (-namespace, -address), whose working directory (its bundle) is deleted, that has no
// child process (nothing runs under it, not even a created task's runc init), and whose
// id containerd has no task for. A shim being started right now has its bundle.
import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import { basename } from "node:path";
import { isNotFound, messageOf } from "../errors.js";
import type { CriDeps } from "../common/deps.js";

const GRACE_MS = 2000;
const POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

interface Proc {
  pid: number;
  ppid: number;
  argv: string[];
}

export interface ShimProcess {
  pid: number;
  id: string;
  namespace: string;
  address: string;
}

function flag(argv: string[], name: string): string {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? "") : "";
}

/** The shim a command line describes, if it is one. */
export function parseShimArgv(pid: number, argv: string[]): ShimProcess | undefined {
  if (!argv[0] || !basename(argv[0]).startsWith("containerd-shim")) return undefined;
  // `start` and `delete` are short-lived helper invocations, not the daemon.
  if (argv.includes("start") || argv.includes("delete")) return undefined;
  const id = flag(argv, "-id");
  const namespace = flag(argv, "-namespace");
  if (!id || !namespace) return undefined;
  return { pid, id, namespace, address: flag(argv, "-address") };
}

/** "pid (comm) S ppid ...": comm may hold spaces and parentheses. */
export function parsePpid(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[1]);
}

/** The command name in /proc/<pid>/stat ("pid (comm) S ppid ..."), at most 15 bytes. */
export function parseComm(stat: string): string {
  return stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
}

/**
 * Every process's parent, and the command line of those whose name says shim: the sweep
 * runs every 15 s on a node with hundreds of processes, so the other command lines are not
 * read (the kernel truncates comm to 15 bytes: "containerd-shim").
 */
async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, "utf8");
      const shim = parseComm(stat).startsWith("containerd-shim");
      const argv = shim ? (await readFile(`/proc/${name}/cmdline`, "utf8")).split("\0").filter(Boolean) : [];
      out.push({ pid: Number(name), ppid: parsePpid(stat), argv });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

async function bundleDeleted(pid: number): Promise<boolean> {
  try {
    return (await readlink(`/proc/${pid}/cwd`)).endsWith(" (deleted)");
  } catch {
    return false;
  }
}

async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function stopShim(pid: number): Promise<void> {
  process.kill(pid, "SIGTERM");
  for (let waited = 0; waited < GRACE_MS; waited += POLL_MS) {
    if (!(await alive(pid))) return;
    await sleep(POLL_MS);
  }
  process.kill(pid, "SIGKILL");
}

/** Finds and stops the orphaned shims of crib's namespace; returns their ids. */
export async function sweepOrphanShims(deps: CriDeps): Promise<string[]> {
  const { config, containerd: cd, logger } = deps;
  const ourAddress = await realpath(config.containerdAddress).catch(() => config.containerdAddress);
  const procs = await processes();
  const parents = new Set(procs.map((p) => p.ppid));
  const stopped: string[] = [];
  for (const p of procs) {
    const shim = parseShimArgv(p.pid, p.argv);
    if (!shim || shim.namespace !== config.namespace) continue;
    if ((await realpath(shim.address).catch(() => shim.address)) !== ourAddress) continue;
    if (parents.has(shim.pid) || !(await bundleDeleted(shim.pid))) continue;
    const known = await cd.tasks.get({ containerId: shim.id }).then(
      () => true,
      (e: unknown) => !isNotFound(e),
    );
    if (known) continue;
    logger.info("stopping a shim left without a task by an interrupted Tasks.Create", { podSandboxId: shim.id, pid: shim.pid });
    try {
      await stopShim(shim.pid);
      stopped.push(shim.id);
    } catch (e) {
      logger.warn("failed to stop an orphaned shim", { pid: shim.pid, error: messageOf(e) });
    }
  }
  return stopped;
}
