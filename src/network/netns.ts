// Persistent (bind-mounted) network namespaces for pod sandboxes, with the semantics of
// containerd's pkg/netns: a new namespace is pinned by bind-mounting it onto an empty
// file <dir>/cni-<uuid>, so it outlives every process in it; removal is a lazy unmount
// plus unlink and is idempotent. Node cannot unshare(2), so util-linux's
// `unshare --net=<file>` does the unshare and the bind mount, run (like umount) by the
// long-lived helper shell (io/command-helper.ts) rather than forked from crib.
import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, realpath, rm, statfs, lstat } from "node:fs/promises";
import { join } from "node:path";
import { runHelped } from "../io/command-helper.js";
import { describeExit } from "../io/run-command.js";

/** Where `ip netns` and containerd (without netns_mounts_under_state_dir) pin namespaces. */
export const DEFAULT_NETNS_DIR = "/var/run/netns";

/** statfs(2) f_type of nsfs: a path with it is a namespace bind mount. */
const NSFS_MAGIC = 0x6e736673;
const COMMAND_TIMEOUT_MS = 10_000;
/** Namespaces stacked onto one path by accident are unmounted one by one, up to this many. */
const MAX_UNMOUNTS = 8;

export interface MountInfo {
  mountId: number;
  parentId: number;
  mountPoint: string;
  /** Optional fields such as "shared:12" or "master:3". */
  optionalFields: string[];
  fsType: string;
}

/** Parses /proc/<pid>/mountinfo (proc(5)); mount points have their octal escapes decoded. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const fields = line.split(" ");
    const sep = fields.indexOf("-", 6);
    if (fields.length < 7 || sep < 0) continue;
    out.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      mountPoint: unescapeMountPath(fields[4]!),
      optionalFields: fields.slice(6, sep),
      fsType: fields[sep + 1] ?? "",
    });
  }
  return out;
}

/** Decodes the \NNN octal escapes the kernel uses for space, tab, newline and backslash. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The topmost mount at exactly `path` (the one path lookups see), if any. */
export function findMount(mounts: readonly MountInfo[], path: string): MountInfo | undefined {
  let found: MountInfo | undefined;
  for (const m of mounts) if (m.mountPoint === path) found = m;
  return found;
}

async function run(file: string, args: string[]): Promise<void> {
  const r = await runHelped(file, args, { timeoutMs: COMMAND_TIMEOUT_MS });
  if (r.code !== 0) {
    const detail = r.stderr.trim() || r.stdout.trim();
    throw new Error(`${file} ${args.join(" ")}: ${describeExit(r, COMMAND_TIMEOUT_MS)}${detail ? `: ${detail}` : ""}`);
  }
}

const preparedDirs = new Map<string, Promise<void>>();

/**
 * Creates `dir` and makes it a shared mount point, as `ip netns add` does: namespace
 * mounts made under it then propagate to mount namespaces that received a copy of the
 * directory (e.g. a container given /run/netns with rslave propagation), and their
 * unmounts propagate too, so removing a namespace does not leave it pinned elsewhere.
 * Runs once per directory per process.
 */
export function prepareNetnsDir(dir: string): Promise<void> {
  let p = preparedDirs.get(dir);
  if (!p) {
    p = makeSharedMountDir(dir);
    preparedDirs.set(dir, p);
    p.catch(() => preparedDirs.delete(dir));
  }
  return p;
}

async function makeSharedMountDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const real = await realpath(dir);
  const mounts = parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
  const mount = findMount(mounts, real);
  if (mount?.optionalFields.some((f) => f.startsWith("shared:"))) return;
  // Namespaces pinned there already (containerd's CRI, which does not share the directory,
  // ran on it before crib) would each be copied by the rbind below and stay stacked twice:
  // containerd's single unmount then fails with EBUSY. Keep the directory as it is.
  if (!mount && mounts.some((m) => m.mountPoint.startsWith(real + "/"))) return;
  // Only a mount point can change propagation: like iproute2, bind the directory onto
  // itself first.
  if (!mount) await run("mount", ["--rbind", real, real]);
  await run("mount", ["--make-rshared", real]);
}

export interface CreateNetnsOptions {
  /** Skip making the directory a shared mount point (default false). */
  skipSharedMount?: boolean;
}

/**
 * Creates a new network namespace pinned at <dir>/cni-<uuid> and returns that path.
 * On failure nothing is left behind.
 */
export async function createNetns(dir: string = DEFAULT_NETNS_DIR, opts: CreateNetnsOptions = {}): Promise<string> {
  if (opts.skipSharedMount) await mkdir(dir, { recursive: true, mode: 0o755 });
  else await prepareNetnsDir(dir);
  const path = join(dir, `cni-${randomUUID()}`);
  // The mount point must exist; O_EXCL makes a name collision an error, not a takeover.
  const fh = await open(path, "wx", 0o666);
  await fh.close();
  try {
    await run("unshare", [`--net=${path}`, "true"]);
  } catch (e) {
    await removeNetns(path).catch(() => {});
    throw new Error(`failed to create network namespace ${path}: ${(e as Error).message}`, { cause: e });
  }
  return path;
}

async function isNsfs(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === NSFS_MAGIC;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/** True when `path` is a pinned (mounted) namespace; false when missing or a plain file. */
export function netnsExists(path: string): Promise<boolean> {
  return isNsfs(path);
}

/**
 * Unmounts (lazily, MNT_DETACH, so processes still inside keep working) and unlinks a
 * namespace created by createNetns. Idempotent: a missing path, or a file that is no
 * longer mounted, is success.
 */
export async function removeNetns(path: string): Promise<void> {
  try {
    await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new Error(`failed to stat netns ${path}: ${(e as Error).message}`, { cause: e });
  }
  // Like containerd, act on the symlink's target, never on a link that points elsewhere.
  const real = await realpath(path).catch(() => path);
  for (let i = 0; i < MAX_UNMOUNTS && (await isNsfs(real)); i++) {
    try {
      await run("umount", ["-l", real]);
    } catch (e) {
      if (await isNsfs(real)) throw new Error(`failed to unmount netns ${real}: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    await rm(real, { force: true });
  } catch (e) {
    throw new Error(`failed to remove netns ${real}: ${(e as Error).message}`, { cause: e });
  }
  if (real !== path) await rm(path, { force: true });
}
