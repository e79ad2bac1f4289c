// A WebSocket as a byte stream, for SPDY tunnelled in WebSocket (client-go's
// "SPDY/3.1+portforward.k8s.io"): every write is one binary message, every message's bytes
// are read in order, end() is a normal closure (client-go's tunnel reads that as EOF).
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";

export class WebSocketDuplex extends Duplex {
  constructor(
    private readonly ws: WebSocket,
    private readonly maxPendingSendBytes = 1024 * 1024,
  ) {
    super({ allowHalfOpen: false });
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (!this.push(bytes)) ws.pause();
    });
    ws.on("close", () => {
      this.push(null);
      if (!this.destroyed) this.destroy();
    });
    ws.on("error", (err: Error) => this.destroy(err));
  }

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return callback(new Error("WebSocket is not open"));
    let called = false;
    const done = (err?: Error) => {
      if (called) return;
      called = true;
      callback(err ?? null);
    };
    this.ws.send(chunk, { binary: true }, done);
    if (this.ws.bufferedAmount < this.maxPendingSendBytes) done();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    else if (this.ws.readyState === this.ws.CONNECTING) this.ws.terminate();
    callback(error);
  }
}
