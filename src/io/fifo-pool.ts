// FIFOs made ahead of time for container and ExecSync stdio. Node has no mkfifo(3), and a
// `mkfifo` child process forked from crib's large heap cost ~5-10 ms of CPU per container;
// the pool makes FIFOs in batches, one process per batch, in the background, and hands
// them out by rename(2) into the process's FIFO paths (same filesystem: the pool lives in
// state_dir), or, for ExecSync, where they are. When the pool is empty or a rename fails, `mkfifo` makes them as before.
// The pool's directory is emptied when crib starts and stops.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { describeExit, runCommand } from "./run-command.js";
import { runHelped } from "./command-helper.js";

/**
 * One `mkfifo` for the given paths (mode 0700), run by the long-lived helper shell: forking
 * crib's node process blocks its event loop for 1.5-3 ms (measured at 100-220 MB), which
 * the RPC being answered at that moment waited out. Without the helper, a child of its own.
 */
export async function mkfifo(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const args = ["-m", "0700", ...paths];
  const r = await runHelped("mkfifo", args, { timeoutMs: 10_000 }).catch(() => runCommand("mkfifo", args, { timeoutMs: 10_000 }));
  if (r.code !== 0) throw new Error(`mkfifo ${paths.join(" ")}: ${describeExit(r)}: ${r.stderr.trim()}`);
}

export class FifoPool {
  private readonly ready: string[] = [];
  private refilling: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly batch = 64,
  ) {}

  /** Empties the directory (FIFOs of a previous run) and makes the first batch. */
  async start(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.started = true;
    await this.refill();
  }

  get available(): number {
    return this.ready.length;
  }

  /** Creates a FIFO at each path (whose directory exists). */
  async make(paths: readonly string[]): Promise<void> {
    const missing: string[] = [];
    // The renames run at once (each a threadpool round trip).
    await Promise.all(
      paths.map((path) => {
        const pooled = this.ready.pop();
        if (pooled === undefined) return missing.push(path);
        return rename(pooled, path).catch(() => missing.push(path));
      }),
    );
    if (this.ready.length < this.batch / 2) void this.refill().catch(() => undefined);
    await mkfifo(missing);
  }

  /**
   * `count` FIFOs used where they are, in the pool's directory (no rename: ExecSync's
   * FIFOs live only as long as the call). The caller removes them; crib's start empties
   * the directory of any a crash left.
   */
  async take(count: number): Promise<string[]> {
    const out: string[] = [];
    const missing: string[] = [];
    for (let i = 0; i < count; i++) {
      const pooled = this.ready.pop();
      if (pooled !== undefined) out.push(pooled);
      else {
        const path = join(this.dir, randomBytes(12).toString("hex"));
        out.push(path);
        missing.push(path);
      }
    }
    if (this.ready.length < this.batch / 2) void this.refill().catch(() => undefined);
    if (missing.length > 0) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await mkfifo(missing);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.refilling?.catch(() => undefined);
    this.ready.length = 0;
    if (this.started) await rm(this.dir, { recursive: true, force: true });
  }

  private refill(): Promise<void> {
    if (!this.started || this.stopped) return Promise.resolve();
    this.refilling ??= (async () => {
      try {
        const paths = Array.from({ length: this.batch }, () => join(this.dir, randomBytes(12).toString("hex")));
        await mkfifo(paths);
        if (this.stopped) await Promise.all(paths.map((p) => rm(p, { force: true })));
        else this.ready.push(...paths);
      } finally {
        this.refilling = undefined;
      }
    })();
    return this.refilling;
  }
}
