// Runs a helper binary (unshare, umount, a CNI plugin) as a child process without
// blocking Node's threadpool: async spawn, a hard timeout, bounded stdout/stderr and an
// optional stdin payload. Callers decide what a non-zero exit means.
import { spawn } from "node:child_process";
import { CappedBuffer } from "./capped-buffer.js";

export interface RunCommandOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** The child's complete environment (default: inherit this process's). */
  env?: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long (default 30 s). */
  timeoutMs?: number;
  /** Each of stdout and stderr is cut after this many bytes (default 1 MiB). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface RunCommandResult {
  /** Exit code, or null when the child died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr exceeded maxOutputBytes and was cut. */
  truncated: boolean;
  timedOut: boolean;
}

/** Spawn failure (ENOENT, EACCES, ETXTBSY, ...) keeps the errno code on `code`. */
export class SpawnError extends Error {
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`failed to run ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "SpawnError";
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const EXIT_DRAIN_MS = 1000;

export function runCommand(file: string, args: readonly string[], opts: RunCommandOptions = {}): Promise<RunCommandResult> {
  const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    let child;
    try {
      // Its own process group, so a timeout also kills what it started (iptables, sleep...).
      child = spawn(file, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"], signal: opts.signal, detached: true });
    } catch (e) {
      reject(new SpawnError(file, (e as NodeJS.ErrnoException).code, e));
      return;
    }
    const stdout = new CappedBuffer(limit);
    const stderr = new CappedBuffer(limit);
    let timedOut = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let drainTimer: NodeJS.Timeout | undefined;

    child.stdout.on("data", (c: Buffer) => stdout.push(c));
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    // A child that exits without reading stdin makes the write fail with EPIPE; its exit
    // status is what matters, so the stdin error is ignored.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");

    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError ??= e;
    });
    // A grandchild that escaped the group may still hold stdout open: once the child has
    // exited, wait briefly for the pipes to drain, then stop reading.
    child.on("exit", () => {
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, EXIT_DRAIN_MS);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(drainTimer);
      // "error" without a pid means the binary never started (ENOENT, EACCES, ETXTBSY).
      if (spawnError && child.pid === undefined) {
        reject(new SpawnError(file, spawnError.code, spawnError));
        return;
      }
      if (spawnError && spawnError.name === "AbortError") {
        reject(spawnError);
        return;
      }
      resolve({
        code,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        timedOut,
      });
    });
  });
}

/** One line describing how a command ended, for error messages. */
export function describeExit(r: RunCommandResult, timeoutMs?: number): string {
  if (r.timedOut) return `timed out${timeoutMs ? ` after ${timeoutMs}ms` : ""}`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit status ${r.code}`;
}
