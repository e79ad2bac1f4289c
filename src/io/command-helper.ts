// One long-lived `sh` co-process that runs short commands (mount, umount, unshare) for
// crib. Forking crib's ~100 MB node process per command costs ~5-10 ms of CPU; the small
// shell forks cheaply instead. Commands go to its stdin one line each, quoted for eval;
// each result comes back on its stdout as "<id> <status> <bytes>\n" followed by that many
// bytes of combined stdout+stderr. The shell runs them one at a time, in order.
// A call with no answer within its timeout kills the helper's process group (and so the
// command it hangs on): that call reports timedOut as runCommand would, every other call
// in flight fails, and the next call starts a new helper. Arguments a line cannot carry
// (newline, NUL) fall back to runCommand. Pipes are libuv streams: nothing here uses the
// threadpool.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { runCommand, type RunCommandResult } from "./run-command.js";

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 64 * 1024;

// LC_ALL=C: ${#o} then counts bytes, which is what the reader expects.
const SCRIPT = `
while IFS= read -r l; do
  i=\${l%% *}
  o=$(eval "\${l#* }" 2>&1 </dev/null); r=$?
  printf '%s %s %s\\n%s' "$i" "$r" "\${#o}" "$o"
done
`;

/** Quotes one word for sh: inside single quotes only ' itself needs care. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The line the helper evals for `file args`, or undefined when a line cannot carry it. */
export function helperCommandLine(file: string, args: readonly string[]): string | undefined {
  const words = [file, ...args];
  if (words.some((w) => /[\n\r\0]/.test(w))) return undefined;
  return words.map(shellQuote).join(" ");
}

export interface HelperFrame {
  id: number;
  status: number;
  output: string;
}

/**
 * Splits the helper's stdout into frames; returns the frames complete in `buf` and the
 * bytes left over for the next chunk. Throws on a malformed header.
 */
export function parseHelperFrames(buf: Buffer): { frames: HelperFrame[]; rest: Buffer } {
  const frames: HelperFrame[] = [];
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const m = /^(\d+) (\d+) (\d+)$/.exec(buf.toString("latin1", pos, nl));
    if (!m) throw new Error(`command helper: bad frame header ${JSON.stringify(buf.toString("utf8", pos, nl))}`);
    const len = Number(m[3]);
    if (buf.length < nl + 1 + len) break;
    frames.push({ id: Number(m[1]), status: Number(m[2]), output: buf.toString("utf8", nl + 1, nl + 1 + len) });
    pos = nl + 1 + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

interface Pending {
  resolve: (r: RunCommandResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

class CommandHelper {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buf: Buffer = Buffer.alloc(0);

  run(line: string, timeoutMs: number): Promise<RunCommandResult> {
    const child = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // This call reports a timeout like runCommand; others in flight with it fail.
        this.pending.delete(id);
        resolve({ code: null, signal: "SIGKILL", stdout: "", stderr: "", truncated: false, timedOut: true });
        this.fail(child, new Error(`command helper killed: another command timed out after ${timeoutMs}ms`), true);
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin.write(`${id} ${line}\n`);
    });
  }

  stop(): void {
    if (this.child) this.fail(this.child, new Error("command helper stopped"), false);
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    // Its own process group, so a timeout also kills the command it is running.
    const child = spawn("/bin/sh", ["-c", SCRIPT], {
      env: { ...process.env, LC_ALL: "C" },
      stdio: ["pipe", "pipe", "ignore" as "pipe"],
      detached: true,
    }) as ChildProcessWithoutNullStreams;
    this.child = child;
    this.buf = Buffer.alloc(0);
    child.stdout.on("data", (c: Buffer) => this.onData(child, c));
    child.stdin.on("error", () => undefined);
    child.on("error", (e) => this.fail(child, e, true));
    child.on("close", () => this.fail(child, new Error("command helper exited"), false));
    // Idle, it must not keep crib's event loop alive; a call in flight has its timer.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return child;
  }

  private onData(child: ChildProcessWithoutNullStreams, chunk: Buffer): void {
    if (child !== this.child) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let frames: HelperFrame[];
    try {
      ({ frames, rest: this.buf } = parseHelperFrames(this.buf));
    } catch (e) {
      this.fail(child, e as Error, true);
      return;
    }
    for (const f of frames) {
      const p = this.pending.get(f.id);
      if (!p) continue;
      this.pending.delete(f.id);
      clearTimeout(p.timer);
      const output = f.output.length > MAX_OUTPUT_BYTES ? f.output.slice(0, MAX_OUTPUT_BYTES) : f.output;
      // sh reports a command killed by signal N as 128+N; kept as the exit status.
      p.resolve({ code: f.status, signal: null, stdout: "", stderr: output, truncated: output !== f.output, timedOut: false });
    }
  }

  /** Drops the helper and fails every call in flight with `err`; the next call starts a new one. */
  private fail(child: ChildProcessWithoutNullStreams, err: Error, kill: boolean): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (kill) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }
    child.stdin.end();
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

const helper = new CommandHelper();

/**
 * Runs `file args` through the shared helper shell; same result shape as runCommand, with
 * the command's stdout and stderr both in `stderr`. A helper that dies, or is killed for
 * another call's timeout, rejects (the command may or may not have run).
 */
export async function runHelped(file: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RunCommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const line = helperCommandLine(file, args);
  if (line === undefined) return runCommand(file, args, { timeoutMs, maxOutputBytes: MAX_OUTPUT_BYTES });
  return helper.run(line, timeoutMs);
}

/** Ends the helper shell (crib's shutdown); a later call starts a new one. */
export function stopCommandHelper(): void {
  helper.stop();
}
