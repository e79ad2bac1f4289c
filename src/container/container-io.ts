// A container's stdio on crib's side (containerd's ContainerIO): the FIFO read ends feeding
// the log pump, and the stdin FIFO's write end kept for attach. Opened before the task is
// created (the shim waits for a reader) and after a restart for a running task.
import type { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import { messageOf } from "../errors.js";
import { openFifoReader, openFifoWriter, type FifoReader, type FifoSet } from "../io/fifo.js";
import { LogPump } from "../io/log-pump.js";
import type { AttachedIO, Container } from "./container-store.js";
import type { ContainerContext } from "./container-context.js";
// --- attach (issue 5) ---
import { OutputFanout } from "../io/output-fanout.js";

export interface ContainerIO extends AttachedIO {
  readonly fifos: FifoSet;
  /** The write end of the stdin FIFO (only when the container was created with stdin). */
  readonly stdin: Socket | undefined;
  /** The shim has opened the FIFOs: EOF from now on means the process's output is over. */
  releasePlaceholders(): Promise<void>;
  /** Attach (issue 5): copies stdout or stderr to `sink` too, until the returned function is called. */
  attachOutput(stream: "stdout" | "stderr", sink: Writable): () => void;
}

/** Attach (issue 5): the FIFO's output on its way to the log pump, with attach clients hanging off it. */
function fanOut(fifo: Readable): OutputFanout {
  const fanout = new OutputFanout();
  fifo.on("error", (e) => fanout.destroy(e));
  fifo.pipe(fanout);
  return fanout;
}

export async function openContainerIO(ctx: ContainerContext, c: Container, fifos: FifoSet): Promise<ContainerIO> {
  const readers: FifoReader[] = [];
  let stdin: Socket | undefined;
  try {
    // Both read ends at once (each is two opens on the threadpool).
    const [out, err] = await Promise.allSettled([openFifoReader(fifos.stdout), fifos.stderr ? openFifoReader(fifos.stderr) : undefined]);
    for (const r of [out, err]) if (r.status === "fulfilled" && r.value) readers.push(r.value);
    if (out.status === "rejected") throw out.reason;
    if (err.status === "rejected") throw err.reason;
    const stdout = out.value;
    const stderr = err.value;
    if (fifos.stdin) stdin = await openFifoWriter(fifos.stdin);
    const stdoutOut = fanOut(stdout.stream);
    const stderrOut = stderr ? fanOut(stderr.stream) : undefined;
    const pump = await LogPump.start({
      path: c.meta.logPath,
      maxLineSize: ctx.deps.config.maxContainerLogLineSize,
      streams: { stdout: stdoutOut, ...(stderrOut ? { stderr: stderrOut } : {}) },
      logger: ctx.deps.logger,
      context: { containerId: c.id },
    });
    const stdinEnd = stdin;
    stdinEnd?.on("error", (e) => ctx.deps.logger.debug("container stdin closed", { containerId: c.id, error: messageOf(e) }));
    return {
      fifos,
      stdin: stdinEnd,
      done: pump.done,
      reopenLog: () => pump.reopen(),
      releasePlaceholders: async () => {
        await Promise.all(readers.map((r) => r.releasePlaceholder()));
      },
      attachOutput: (stream, sink) => (stream === "stdout" ? stdoutOut : stderrOut)?.attach(sink) ?? (() => {}),
      close() {
        pump.stop();
        for (const r of readers) r.destroy();
        stdinEnd?.destroy();
      },
    };
  } catch (e) {
    for (const r of readers) r.destroy();
    stdin?.destroy();
    throw e;
  }
}
