// A container's stdout or stderr on its way from the FIFO to the log pump, with attach
// clients hanging off it (containerd's per-stream writer group): every chunk goes to each
// attached client and on to the log, so the CRI log keeps every line while clients are
// attached. A client that does not keep up holds the chunk back until it drains, which
// pauses the FIFO and, once the pipe is full, the container (as containerd's writer group
// blocks); a client that goes away is dropped at once.
import { Transform, type TransformCallback, type Writable } from "node:stream";

export class OutputFanout extends Transform {
  /** Each attached client, with the waiters a held-back chunk registered on it. */
  private readonly sinks = new Map<Writable, Set<() => void>>();

  get attached(): number {
    return this.sinks.size;
  }

  /** Adds a client; returns the function that detaches it (idempotent). */
  attach(sink: Writable): () => void {
    if (this.writableEnded || this.destroyed) return () => {};
    const waiters = new Set<() => void>();
    this.sinks.set(sink, waiters);
    const detach = () => {
      if (this.sinks.get(sink) !== waiters) return;
      this.sinks.delete(sink);
      sink.off("close", detach);
      sink.off("error", detach);
      for (const w of waiters) w();
    };
    sink.once("close", detach);
    sink.on("error", detach);
    return detach;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    const held: Promise<void>[] = [];
    for (const [sink, waiters] of this.sinks) {
      if (sink.destroyed || sink.writableEnded) continue;
      if (!sink.write(chunk)) held.push(this.drained(sink, waiters));
    }
    this.push(chunk);
    if (held.length === 0) return callback();
    void Promise.all(held).then(() => callback());
  }

  /** Resolves when the sink drained, or is gone or detached. */
  private drained(sink: Writable, waiters: Set<() => void>): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        waiters.delete(done);
        sink.off("drain", done);
        sink.off("close", done);
        resolve();
      };
      waiters.add(done);
      sink.once("drain", done);
      sink.once("close", done);
    });
  }
}
