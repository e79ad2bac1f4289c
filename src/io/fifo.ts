// Named pipes between crib and containerd's shim for a process's stdio, opened so that no
// libuv threadpool thread ever blocks on them (a blocking FIFO open or read would hold a
// thread per container, and four of them starve the whole server).
//
// The runc shim opens each output FIFO for writing (and, so its writes never meet EPIPE
// while nobody reads, once more for reading) when the process's IO is set up, and closes
// both when the process's output reaches EOF. crib reads through a non-blocking read end;
// until the shim's writer exists crib holds a placeholder writer of its own, so the reader
// neither sees a premature EOF nor blocks. Once the placeholder is released, EOF on the
// read end means the process and everything that inherited its stdio are gone.
import { constants, close, open } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { mkfifo, type FifoPool } from "./fifo-pool.js";

const openFd = promisify(open) as (path: string, flags: number, mode?: number) => Promise<number>;
const closeFd = promisify(close);
// libuv adds O_CLOEXEC to every open itself.
const { O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK } = constants;

/** The stdio FIFO paths of one process; "" where the process has no such stream. */
export interface FifoSet {
  dir: string;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

/**
 * The FIFO paths for a process (containerd's NewFIFOSetInDir naming: <id>-stdin, ...).
 * With a terminal stderr is merged into stdout, so there is no stderr FIFO.
 */
export function fifoSetIn(dir: string, id: string, opts: { stdin: boolean; terminal: boolean }): FifoSet {
  return {
    dir,
    stdin: opts.stdin ? join(dir, `${id}-stdin`) : "",
    stdout: join(dir, `${id}-stdout`),
    stderr: opts.terminal ? "" : join(dir, `${id}-stderr`),
    terminal: opts.terminal,
  };
}

async function isFifo(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFIFO();
  } catch {
    return false;
  }
}

/**
 * Creates the set's dir and FIFOs (mode 0700); FIFOs that already exist are kept (`fresh`:
 * the set's paths are new, none can exist). With a pool, FIFOs made ahead are moved into
 * place instead of running `mkfifo` now.
 */
export async function createFifos(set: FifoSet, pool?: FifoPool, opts: { fresh?: boolean } = {}): Promise<void> {
  const wanted = fifoPaths(set);
  // One threadpool round trip for the dir and the checks together, not one after the other.
  // A fresh set (a new container's) has nothing to check: each check is a stat on the
  // threadpool and a promise on the event loop.
  const [, present] = await Promise.all([mkdir(set.dir, { recursive: true, mode: 0o700 }), opts.fresh ? [] : Promise.all(wanted.map(isFifo))]);
  const missing = wanted.filter((_, i) => !present[i]);
  // Node has no mkfifo(3); the coreutils binary does it without blocking anything.
  if (pool) await pool.make(missing);
  else await mkfifo(missing);
}

/** The set's FIFO paths. */
export function fifoPaths(set: FifoSet): string[] {
  return [set.stdin, set.stdout, set.stderr].filter((p) => p !== "");
}

/** Removes the set's FIFOs (the dir stays: it may hold other processes' FIFOs). */
export async function removeFifos(set: FifoSet): Promise<void> {
  await Promise.all(fifoPaths(set).map((p) => rm(p, { force: true })));
}

/** A read end of an output FIFO: a stream that ends when the last writer is gone. */
export interface FifoReader {
  stream: Socket;
  /**
   * Drops crib's placeholder writer: from now on the stream ends when the shim (and so
   * the process) closes its end. Call it once the shim has opened the FIFO.
   */
  releasePlaceholder(): Promise<void>;
  /** Stops reading and closes everything. */
  destroy(): void;
}

/**
 * Opens an output FIFO for reading, with crib's placeholder writer held until
 * releasePlaceholder(). Release it once the shim has opened its end: at once when
 * re-attaching to a running process after a restart. The placeholder also matters there:
 * Linux reports a hang-up on a FIFO only to readers that have seen a writer, so a reader
 * opened after the shim already left would otherwise wait forever instead of ending.
 */
export async function openFifoReader(path: string): Promise<FifoReader> {
  // O_NONBLOCK: opening a FIFO's read end never waits for a writer then.
  const rfd = await openFd(path, O_RDONLY | O_NONBLOCK);
  let wfd: number | undefined;
  try {
    // With a reader present a non-blocking write-only open succeeds at once.
    wfd = await openFd(path, O_WRONLY | O_NONBLOCK);
  } catch (e) {
    await closeFd(rfd).catch(() => undefined);
    throw e;
  }
  // libuv treats the FIFO as a pipe: reads are event-driven on the loop, not on the threadpool.
  const stream = new Socket({ fd: rfd, readable: true, writable: false });
  let placeholder: number | undefined = wfd;
  const release = async () => {
    const fd = placeholder;
    placeholder = undefined;
    if (fd !== undefined) await closeFd(fd).catch(() => undefined);
  };
  return {
    stream,
    releasePlaceholder: release,
    destroy() {
      stream.destroy();
      void release();
    },
  };
}

/**
 * Opens a stdin FIFO for writing without blocking: O_RDWR on a FIFO never waits for the
 * other end, and keeps the pipe open for the shim whatever the attach clients do.
 */
export async function openFifoWriter(path: string): Promise<Socket> {
  const fd = await openFd(path, O_RDWR | O_NONBLOCK);
  return new Socket({ fd, readable: false, writable: true });
}
