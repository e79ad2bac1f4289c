// One crib per state: before crib touches anything (start-up sweeps of run leases, netns
// pins, exec FIFOs), it takes an exclusive lock on its root dir, its state dir and its
// socket, and refuses a socket another server answers on. A second crib given any of them
// exits with a clear message and changes nothing.
//
// Why flock(1) in a child: Node has no flock(2). An O_EXCL pid file needs a liveness check
// that a reused pid defeats and leaves a stale file after kill -9. A kernel flock dies with
// the last fd holding it, so nothing is ever stale: util-linux's `flock` (essential in
// Debian) takes the locks, one nested `flock` per file, and holds them while its last child
// `cat` waits on a pipe from crib. When crib exits for any reason, kill -9 included, the
// kernel closes the pipe, `cat` sees EOF and the locks go with the processes. Killing only
// the lock holders does not free them early: `cat` keeps the inherited fds until crib ends.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { failedPrecondition, internal } from "../errors.js";
import { refuseLiveSocket } from "./socket.js";

/** What was locked, for the error message. */
export interface LockTarget {
  what: string;
  path: string;
  lockFile: string;
}

export interface InstanceLock {
  targets: LockTarget[];
  /** Ends the holder and waits for it, so a crib started next in this process can lock. */
  release(): Promise<void>;
}

/** First conflict exit code; the i-th nested flock uses FIRST_CONFLICT_CODE + i. */
const FIRST_CONFLICT_CODE = 75;
/** How long to wait for a lock a just-killed crib's holder is still letting go of. */
const WAIT_SECONDS = 2;
const READY = "locked";

/** Lock files, one per distinct path: `<root>/crib.lock`, `<state>/crib.lock`, `<listen>.lock`. */
export function lockTargets(dirs: { rootDir: string; stateDir: string; listen: string }): LockTarget[] {
  const all: LockTarget[] = [
    { what: "root dir", path: resolve(dirs.rootDir), lockFile: join(resolve(dirs.rootDir), "crib.lock") },
    { what: "state dir", path: resolve(dirs.stateDir), lockFile: join(resolve(dirs.stateDir), "crib.lock") },
    { what: "socket", path: resolve(dirs.listen), lockFile: `${resolve(dirs.listen)}.lock` },
  ];
  // The same file locked twice by two nested flocks would conflict with itself.
  const seen = new Set<string>();
  return all.filter((t) => !seen.has(t.lockFile) && seen.add(t.lockFile));
}

/** argv of the nested flock chain ending in a process that reports READY and waits for EOF. */
export function flockArgv(targets: LockTarget[]): string[] {
  const argv: string[] = [];
  targets.forEach((t, i) => argv.push("flock", "-w", String(WAIT_SECONDS), "-E", String(FIRST_CONFLICT_CODE + i), t.lockFile));
  argv.push("sh", "-c", `echo ${READY}; exec cat >/dev/null`);
  return argv;
}

export function conflictMessage(t: LockTarget): string {
  return (
    `another crib is using the ${t.what} ${t.path} (${t.lockFile} is locked): two crib processes must never share a root dir, ` +
    `state dir or socket; stop the other one or give this one its own --root-dir, --state-dir and --listen`
  );
}

function waitReady(child: ChildProcess, targets: LockTarget[]): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let out = "";
    let err = "";
    const onExit = (code: number | null) => {
      const t = code !== null ? targets[code - FIRST_CONFLICT_CODE] : undefined;
      if (t) reject(failedPrecondition(conflictMessage(t)));
      else reject(internal(`failed to lock crib's dirs with flock (exit ${code}): ${err.trim()}`));
    };
    child.once("error", (e) => reject(internal(`failed to run flock to lock crib's dirs: ${e.message}`)));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes(READY)) {
        child.off("exit", onExit);
        resolveReady();
      }
    });
    child.once("exit", onExit);
  });
}

/**
 * Locks root dir, state dir and socket, then refuses a socket another server answers on
 * (a non-crib server, or containerd's own CRI, that holds no crib lock).
 */
export async function lockInstance(dirs: { rootDir: string; stateDir: string; listen: string }): Promise<InstanceLock> {
  const targets = lockTargets(dirs);
  for (const t of targets) await mkdir(dirname(t.lockFile), { recursive: true, mode: 0o750 });
  const [cmd, ...args] = flockArgv(targets);
  const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"] });
  await waitReady(child, targets);
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
  // The holder must not keep a stopping process alive; crib's own exit ends it anyway.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    child.ref(); // waited for below: keeps this process alive until the holder is gone
    child.stdin!.end();
    await exited;
  };
  try {
    await refuseLiveSocket(dirs.listen);
  } catch (e) {
    await release();
    throw e;
  }
  return { targets, release };
}
