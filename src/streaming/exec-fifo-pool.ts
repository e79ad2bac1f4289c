// FIFOs made ahead of time for streaming execs. Node has no mkfifo(3), so every FIFO set
// costs a `mkfifo` process (~5 ms, a tenth of an exec round trip); the pool makes them in
// batches, one process per batch, in the background, so a session usually finds its set
// ready. Each set is used once and removed by the session (removeFifos); the pool's
// directory is emptied when crib starts and stops, so no FIFO outlives a crash for long.
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { createFifos, fifoSetIn, type FifoSet } from "../io/fifo.js";
import { mkfifo } from "../io/fifo-pool.js";

export interface FifoSetOptions {
  stdin: boolean;
  terminal: boolean;
}

export class ExecFifoPool {
  private readonly ready: string[] = [];
  private refilling: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly batch = 16,
  ) {}

  /** Empties the directory (FIFOs of a previous run) and makes the first batch. */
  async start(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.refill();
  }

  get available(): number {
    return this.ready.length;
  }

  /** A fresh FIFO set shaped for the process (no stdin or stderr FIFO where it has none). */
  async take(opts: FifoSetOptions): Promise<FifoSet> {
    const id = this.ready.shift();
    if (this.ready.length < this.batch / 2) void this.refill().catch(() => undefined);
    if (id === undefined) {
      const set = fifoSetIn(this.dir, randomBytes(16).toString("hex"), opts);
      await createFifos(set);
      return set;
    }
    const full = fifoSetIn(this.dir, id, { stdin: true, terminal: false });
    const set = fifoSetIn(this.dir, id, opts);
    for (const path of [full.stdin, full.stderr]) {
      if (path !== set.stdin && path !== set.stderr) await rm(path, { force: true });
    }
    return set;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.refilling?.catch(() => undefined);
    this.ready.length = 0;
    await rm(this.dir, { recursive: true, force: true });
  }

  private refill(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.refilling ??= (async () => {
      try {
        const ids = Array.from({ length: this.batch }, () => randomBytes(16).toString("hex"));
        const paths = ids.flatMap((id) => {
          const s = fifoSetIn(this.dir, id, { stdin: true, terminal: false });
          return [s.stdin, s.stdout, s.stderr];
        });
        // One mkfifo for the whole batch (through the helper shell, see io/fifo-pool.ts).
        await mkfifo(paths);
        if (!this.stopped) this.ready.push(...ids);
      } finally {
        this.refilling = undefined;
      }
    })();
    return this.refilling;
  }
}
