// Copying between a process's FIFOs and a client's streams, with backpressure both ways: a
// client that stops reading pauses the FIFO (the pipe fills, the process blocks on write),
// a process that stops reading stdin pauses the client's stream. Shared by exec and attach.
import type { Readable, Writable } from "node:stream";
import { ResizeEventDecoder, ResizeDecodeError, type TerminalSize } from "./remotecommand/resize.js";

/**
 * Copies a process output FIFO to the client until the FIFO ends (the process and whatever
 * inherited its stdio are gone). The client's stream is not ended: the session does that
 * in order with the status. Without a client stream (or once it is gone) output is drained
 * and dropped, so the process never blocks on a stream nobody reads.
 */
export function copyOutput(fifo: Readable, client: Writable | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (fifo.readableEnded || fifo.destroyed) return resolve();
    const done = () => resolve();
    fifo.once("end", done);
    fifo.once("close", done);
    fifo.on("error", done);
    if (!client || client.destroyed || client.writableEnded) {
      fifo.resume();
      return;
    }
    const discard = () => {
      fifo.unpipe(client);
      fifo.resume();
    };
    client.once("close", discard);
    client.on("error", discard);
    fifo.once("end", () => client.off("close", discard));
    fifo.pipe(client, { end: false });
  });
}

/**
 * Copies the client's stdin into the process's stdin FIFO; when the client's stdin ends the
 * FIFO is flushed and closed and `onEof` runs (Tasks.CloseIO: the shim closes the
 * process's stdin). A client that goes away without ending stdin ends it the same way.
 */
export function copyStdin(client: Readable, fifo: Writable, onEof: () => void): void {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    client.unpipe(fifo);
    fifo.end(() => {
      fifo.destroy();
      onEof();
    });
    // A FIFO nobody reads any more never flushes; closing it is all that is left.
    setTimeout(() => fifo.destroy(), 5000).unref();
  };
  fifo.on("error", () => {});
  fifo.once("close", () => {
    if (!closed) {
      closed = true;
      onEof();
    }
  });
  client.once("end", close);
  client.once("close", close);
  client.on("error", close);
  client.pipe(fifo, { end: false });
}

/**
 * Reads resize events and applies them in order (one ResizePty at a time). A malformed
 * event ends resize handling and nothing else, as in kubelet.
 */
export function forwardResizes(resize: Readable, apply: (size: TerminalSize) => Promise<void>, onError: (e: unknown) => void): void {
  const decoder = new ResizeEventDecoder();
  let chain = Promise.resolve();
  resize.on("error", () => {});
  resize.on("data", (chunk: Buffer) => {
    let events: TerminalSize[];
    try {
      events = decoder.push(chunk);
    } catch (e) {
      if (!(e instanceof ResizeDecodeError)) throw e;
      onError(e);
      resize.resume();
      return;
    }
    for (const size of events) chain = chain.then(() => apply(size)).catch(onError);
  });
}
