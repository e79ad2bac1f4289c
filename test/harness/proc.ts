// Process plumbing for the harness: run a tool to completion, start a daemon with its
// output in a log file, stop it (SIGTERM, then SIGKILL), wait for readiness, free ports.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const why = signal ? `killed by ${signal}` : `exit ${code}`;
        reject(new Error(`${cmd} ${args.join(" ")}: ${why}\n${stderr.trim() || stdout.trim()}`));
      }
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

export interface Daemon {
  name: string;
  child: ChildProcess;
  pid: number;
  logPath: string;
  /** Set once the process has exited (by itself or because we stopped it). */
  exited: Promise<void>;
}

/**
 * Starts a long-running server in its own process group, so a Ctrl-C on the terminal
 * reaches the test command but not the servers, which the harness stops in order.
 */
export function startDaemon(
  name: string,
  cmd: string,
  args: readonly string[],
  logPath: string,
  opts: { env?: NodeJS.ProcessEnv; track?: (d: Daemon) => void } = {},
): Daemon {
  const log = openSync(logPath, "a");
  const child = spawn(cmd, args, { stdio: ["ignore", log, log], detached: true, env: opts.env ?? process.env });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  child.on("error", () => {});
  const daemon = { name, child, pid: child.pid, logPath, exited };
  opts.track?.(daemon);
  return daemon;
}

export function isRunning(d: Daemon): boolean {
  return d.child.exitCode === null && d.child.signalCode === null;
}

/** SIGTERM, then SIGKILL after graceMs. Resolves when the process is gone. */
export async function stopDaemon(d: Daemon, graceMs = 5000): Promise<void> {
  if (!isRunning(d)) return;
  d.child.kill("SIGTERM");
  const done = await Promise.race([d.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    d.child.kill("SIGKILL");
    await d.exited;
  }
}

/** Polls check() until it returns true; fails early when the daemon dies. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; daemon?: Daemon } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let delay = 10;
  for (;;) {
    if (opts.daemon && !isRunning(opts.daemon)) {
      throw new Error(`${opts.daemon.name} exited while waiting for ${what}\n${tail(opts.daemon.logPath, 30)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const log = opts.daemon ? `\n${tail(opts.daemon.logPath, 30)}` : "";
      throw new Error(`timed out waiting for ${what}${log}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

/** The last lines of a log, leaving out lines that match `skip` (start-up chatter). */
export function tail(path: string, lines: number, skip?: RegExp): string {
  try {
    const all = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .filter((l) => !skip?.test(l));
    return all.slice(-lines).join("\n");
  } catch {
    return `(no log at ${path})`;
  }
}

/** PIDs of processes whose command line mentions `needle` (never this process). */
export function pidsMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(needle)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** True while the process runs; a zombie (killed, not yet reaped by its parent) counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": comm may contain spaces and parens, the state follows the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
