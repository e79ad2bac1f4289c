// Test fixtures for SPDY: a connected TCP pair on 127.0.0.1, and a "raw peer" that speaks
// frames directly (to play spdystream, which never sends WINDOW_UPDATE, or a hostile peer).
import net from "node:net";
import { once } from "node:events";
import { FrameReader } from "../../src/streaming/spdy/frame-reader.js";
import { encodeFrame, type Frame } from "../../src/streaming/spdy/frames.js";
import { HeaderCompressor, HeaderDecompressor, type HeaderInit, type SpdyHeaders } from "../../src/streaming/spdy/header-compression.js";

export async function socketPair(): Promise<{ server: net.Socket; client: net.Socket; close: () => void }> {
  const listener = net.createServer();
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, "connection");
  const client = net.connect(port, "127.0.0.1");
  const [server] = (await accepted) as [net.Socket];
  await once(client, "connect").catch(() => undefined);
  listener.close();
  return {
    server,
    client,
    close: () => {
      server.destroy();
      client.destroy();
    },
  };
}

export type DecodedFrame = Frame & { headers?: SpdyHeaders };

/** A peer that writes and reads frames by hand. */
export class RawPeer {
  readonly frames: DecodedFrame[] = [];
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly reader: FrameReader;
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(readonly socket: net.Socket) {
    this.reader = new FrameReader((frame) => {
      const decoded: DecodedFrame = { ...frame };
      if ("headerBlock" in frame) decoded.headers = this.decompressor.decompress(frame.headerBlock);
      this.frames.push(decoded);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("data", (chunk: Buffer) => this.reader.push(chunk));
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("error", () => {});
  }

  send(frame: Frame): void {
    this.socket.write(encodeFrame(frame));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  synStream(streamId: number, headers: HeaderInit, flags = 0): void {
    this.send({ type: "SYN_STREAM", streamId, associatedToStreamId: 0, priority: 0, slot: 0, flags, headerBlock: this.compressor.compress(headers) });
  }

  compress(headers: HeaderInit): Buffer {
    return this.compressor.compress(headers);
  }

  /** Waits for the first received frame matching pred (already received ones count). */
  async waitFor(pred: (f: DecodedFrame) => boolean, timeoutMs = 3000): Promise<DecodedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(pred);
      if (found) return found;
      if (this.closed) throw new Error(`peer closed before the frame arrived; got ${this.frames.map((f) => f.type).join(",")}`);
      if (Date.now() > deadline) throw new Error(`timed out; got ${this.frames.map((f) => f.type).join(",")}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50).unref();
      });
    }
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    if (this.closed) return;
    await Promise.race([
      once(this.socket, "close"),
      new Promise((_, reject) => setTimeout(() => reject(new Error("socket did not close")), timeoutMs).unref()),
    ]);
  }

  dataBytes(streamId: number): number {
    return this.frames.filter((f) => f.type === "DATA" && f.streamId === streamId).reduce((n, f) => n + (f as { data: Buffer }).data.length, 0);
  }
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the stream has emitted 'close' (immediately if it already has). */
export function whenClosed(stream: NodeJS.EventEmitter & { closed?: boolean }): Promise<unknown> {
  return stream.closed ? Promise.resolve() : once(stream, "close");
}
