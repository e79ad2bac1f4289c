// A SPDY/3.1 session over any Duplex (a TCP socket after the HTTP upgrade, or a WebSocket
// carrying SPDY in binary messages). Server role: the peer (kubelet's client-go/spdystream,
// crictl, our own client) opens streams with SYN_STREAM and we answer SYN_REPLY; client role
// is the mirror image, for tests and benchmarks.
//
// What spdystream does, and so what we must tolerate: it never sends WINDOW_UPDATE or
// SETTINGS and ignores ours, so enforcing the peer's 64 KiB window on such a peer would stall
// every stream after 64 KiB. Flow control is therefore "auto" by default: we honour the
// peer's windows as soon as it shows it keeps them (a SETTINGS INITIAL_WINDOW_SIZE or any
// WINDOW_UPDATE) and, for receiving, we credit bytes only once they are read, and pause the
// transport when a stream holds too many unread bytes (what spdystream's blocking reads
// amount to). Malformed input closes the session with GOAWAY; nothing is thrown.
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { SpdyProtocolError } from "./errors.js";
import { FrameReader } from "./frame-reader.js";
import {
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  GoAwayStatus,
  MAX_STREAM_ID,
  RstStatus,
  SettingsId,
  encodeFrame,
  type Frame,
} from "./frames.js";
import {
  HeaderCompressor,
  HeaderDecompressor,
  toSpdyHeaders,
  type HeaderInit,
  type SpdyHeaders,
} from "./header-compression.js";
import { SpdyStream, type PendingWrite, type StreamOwner } from "./stream.js";
import { DataSender, type FlowControlMode } from "./data-sender.js";
import { PingTracker } from "./ping-tracker.js";
import { ReceiveControl } from "./receive-control.js";
import { withDefaults, type SpdyConnectionOptions } from "./connection-options.js";
import { setTimerWithin } from "../../timer-limit.js";

export type { FlowControlMode, SpdyConnectionOptions };

export interface OpenStreamOptions {
  fin?: boolean;
  priority?: number;
}

export class SpdyConnection extends EventEmitter implements StreamOwner {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly reader: FrameReader;
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor: HeaderDecompressor;
  private readonly opts: Required<SpdyConnectionOptions>;
  private readonly sender: DataSender;
  private readonly pings: PingTracker;
  private nextStreamId: number;
  private readonly receiving: ReceiveControl;
  private lastRemoteStreamId = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private goAwaySent = false;
  private goAwayReceived = false;
  private closing: Promise<void> | undefined;
  private closed = false;
  /** Why the session ended, once it has. */
  closeError: Error | undefined;

  constructor(
    private readonly transport: Duplex,
    options: SpdyConnectionOptions,
  ) {
    super();
    this.opts = withDefaults(options);
    this.nextStreamId = options.role === "server" ? 2 : 1;
    this.pings = new PingTracker(options.role);
    this.sender = new DataSender(transport, (f) => this.writeFrame(f), this.opts.flowControl, this.opts.maxSendFrameSize);
    this.receiving = new ReceiveControl(transport, (f) => this.writeFrame(f), this.opts.receiveWindow);
    this.decompressor = new HeaderDecompressor({ maxHeaderBlockSize: this.opts.maxHeaderBlockSize });
    this.reader = new FrameReader((frame) => this.handleFrame(frame), {
      maxControlLength: this.opts.maxControlFrameLength,
      maxDataLength: this.opts.maxDataFrameLength,
    });
    transport.on("data", (chunk: Buffer) => this.onTransportData(chunk));
    transport.on("end", () => this.terminate());
    transport.on("close", () => this.terminate());
    transport.on("error", (err: Error) => this.terminate(err));
    if (this.opts.idleTimeoutMs > 0) this.setIdleTimeout(this.opts.idleTimeoutMs);
    if (this.opts.announceSettings) {
      this.writeFrame({
        type: "SETTINGS",
        flags: 0,
        entries: [{ flags: 0, id: SettingsId.InitialWindowSize, value: this.opts.receiveWindow }],
      });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  /** Opens a stream (SYN_STREAM). Writes wait for the peer's SYN_REPLY, as spdystream's do. */
  openStream(headers: HeaderInit, options: OpenStreamOptions = {}): SpdyStream {
    if (this.closed || this.closing || this.goAwayReceived) throw new Error("SPDY session is closing");
    const id = this.nextStreamId;
    if (id > MAX_STREAM_ID) throw new Error("SPDY stream ids exhausted");
    this.nextStreamId += 2;
    const spdyHeaders = toSpdyHeaders(headers);
    const stream = this.createStream(id, spdyHeaders, true);
    const fin = options.fin === true;
    this.writeFrame({
      type: "SYN_STREAM",
      streamId: id,
      associatedToStreamId: 0,
      priority: options.priority ?? 0,
      slot: 0,
      flags: fin ? FLAG_FIN : 0,
      headerBlock: this.compressor.compress(spdyHeaders),
    });
    if (fin) {
      stream.localFinished = true;
      stream.end();
    }
    return stream;
  }

  /** Round trip of a PING, in milliseconds. */
  ping(timeoutMs = 10_000): Promise<number> {
    if (this.closed) return Promise.reject(new Error("SPDY session is closed"));
    const { id, rtt } = this.pings.start(timeoutMs);
    this.writeFrame({ type: "PING", id });
    return rtt;
  }

  setIdleTimeout(ms: number): void {
    this.opts.idleTimeoutMs = ms;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.closed) return;
    // 0, or past Node's timer limit: no idle timeout.
    this.idleTimer = setTimerWithin(ms, () => {
      this.emit("idle");
      void this.close();
    });
    this.idleTimer?.unref();
  }

  /**
   * Graceful close: GOAWAY, let queued data go out (up to closeTimeoutMs), reset streams we
   * have not finished, end the transport. Resolves once the transport has closed.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing ??= this.closeGracefully();
    return this.closing;
  }

  /** Immediate teardown without GOAWAY. */
  destroy(err?: Error): void {
    this.transport.destroy();
    this.terminate(err);
  }

  private async closeGracefully(): Promise<void> {
    this.sendGoAway(GoAwayStatus.Ok);
    const deadline = Date.now() + this.opts.closeTimeoutMs;
    while (this.sender.pendingCount > 0 && Date.now() < deadline && !this.closed) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // apimachinery's Close: reset every stream (those we finished are left alone).
    for (const stream of [...this.streams.values()]) stream.destroy();
    await this.endTransport();
    this.terminate();
  }

  private endTransport(): Promise<void> {
    return new Promise((resolve) => {
      if (this.transport.destroyed) return resolve();
      const timer = setTimeout(() => {
        this.transport.destroy();
        resolve();
      }, this.opts.closeTimeoutMs);
      timer.unref();
      this.transport.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.transport.end(() => {
        // Half-closed TCP peers may never close their side; the session is over anyway.
        this.transport.destroy();
      });
    });
  }

  private sendGoAway(status: number): void {
    if (this.goAwaySent) return;
    this.goAwaySent = true;
    this.writeFrame({ type: "GOAWAY", lastGoodStreamId: this.lastRemoteStreamId, status });
  }

  /** Transport gone (or fatal error): every stream and waiter is released, once. */
  private terminate(err?: Error, destroyTransport = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError ??= err;
    clearTimeout(this.idleTimer);
    for (const stream of [...this.streams.values()]) stream.destroy();
    this.streams.clear();
    this.sender.releaseAll();
    this.pings.rejectAll(new Error("SPDY session closed"));
    if (destroyTransport && !this.transport.destroyed) this.transport.destroy();
    this.emit("close", this.closeError);
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closeError = err;
    this.transport.pause();
    this.sendGoAway(err instanceof SpdyProtocolError ? GoAwayStatus.ProtocolError : GoAwayStatus.InternalError);
    // Let the GOAWAY reach the peer before the socket goes.
    this.transport.end(() => this.transport.destroy());
    const timer = setTimeout(() => this.transport.destroy(), 1000);
    timer.unref();
    this.terminate(err, false);
  }

  private onTransportData(chunk: Buffer): void {
    if (this.closed) return;
    this.touch();
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private touch(): void {
    this.idleTimer?.refresh();
  }

  private writeFrame(frame: Frame): void {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) return;
    this.touch();
    this.transport.write(encodeFrame(frame));
  }

  private handleFrame(frame: Frame): void {
    switch (frame.type) {
      case "SYN_STREAM":
        return this.onSynStream(frame);
      case "SYN_REPLY": {
        const headers = this.decompressor.decompress(frame.headerBlock);
        const stream = this.streams.get(frame.streamId);
        if (!stream || !stream.initiatedLocally || stream.replied) return;
        stream.replied = true;
        stream.replyHeaders = headers;
        stream.emit("reply", headers);
        if (frame.flags & FLAG_FIN) stream.receiveFin();
        return this.sender.replied(stream);
      }
      case "HEADERS": {
        const headers = this.decompressor.decompress(frame.headerBlock);
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        stream.emit("headers", headers);
        if (frame.flags & FLAG_FIN) stream.receiveFin();
        return;
      }
      case "DATA":
        return this.onData(frame.streamId, frame.data, (frame.flags & FLAG_FIN) !== 0);
      case "RST_STREAM": {
        const stream = this.streams.get(frame.streamId);
        if (stream) stream.receiveReset(frame.status);
        return;
      }
      case "SETTINGS":
        return this.onSettings(frame.entries);
      case "PING":
        return this.onPing(frame.id);
      case "GOAWAY":
        return this.onGoAway(frame.lastGoodStreamId, frame.status);
      case "WINDOW_UPDATE":
        return this.onWindowUpdate(frame.streamId, frame.deltaWindowSize);
    }
  }

  private onSynStream(frame: Extract<Frame, { type: "SYN_STREAM" }>): void {
    // Decompress first, always: the zlib context must see every header block in order.
    const headers = this.decompressor.decompress(frame.headerBlock);
    const id = frame.streamId;
    const peerParity = this.opts.role === "server" ? 1 : 0;
    if (id % 2 !== peerParity || id <= this.lastRemoteStreamId) {
      this.writeFrame({ type: "RST_STREAM", streamId: id, status: RstStatus.ProtocolError });
      return;
    }
    this.lastRemoteStreamId = id;
    const refuse =
      this.goAwaySent || this.closing !== undefined || this.streams.size >= this.opts.maxConcurrentStreams || this.listenerCount("stream") === 0;
    if (refuse) {
      this.writeFrame({ type: "RST_STREAM", streamId: id, status: RstStatus.RefusedStream });
      return;
    }
    const stream = this.createStream(id, headers, false);
    if (frame.flags & FLAG_UNIDIRECTIONAL) {
      stream.localFinished = true;
      stream.end();
    }
    if (frame.flags & FLAG_FIN) stream.receiveFin();
    this.emit("stream", stream);
  }

  private createStream(id: number, headers: SpdyHeaders, local: boolean): SpdyStream {
    const stream = new SpdyStream(id, headers, local, this, {
      receiveWindow: this.opts.receiveWindow,
      maxBufferedBytes: this.opts.maxBufferedBytesPerStream,
      sendWindow: this.sender.peerInitialWindow,
    });
    this.streams.set(id, stream);
    return stream;
  }

  private onData(streamId: number, data: Buffer, fin: boolean): void {
    const stream = this.streams.get(streamId);
    if (!stream || stream.remoteFinished) {
      // Closed or unknown stream (spdystream ignores these too); keep the session window open.
      this.receiving.creditSession(data.length);
      return;
    }
    stream.receiveData(data, fin);
  }

  private onSettings(entries: Array<{ id: number; value: number }>): void {
    for (const entry of entries) {
      if (entry.id === SettingsId.InitialWindowSize) this.sender.onInitialWindowSize(entry.value, this.streams.values());
    }
  }

  private onPing(id: number): void {
    if (this.pings.isOurs(id)) this.pings.answered(id);
    else this.writeFrame({ type: "PING", id });
  }

  private onGoAway(lastGoodStreamId: number, status: number): void {
    if (this.goAwayReceived) return;
    this.goAwayReceived = true;
    this.emit("goaway", { lastGoodStreamId, status });
    for (const stream of [...this.streams.values()]) {
      // Streams we opened that the peer never processed are gone.
      if (stream.initiatedLocally && stream.id > lastGoodStreamId) stream.receiveReset(RstStatus.RefusedStream);
    }
    this.closeWhenIdle();
  }

  private closeWhenIdle(): void {
    if (this.streams.size === 0 && (this.goAwayReceived || this.goAwaySent)) void this.close();
  }

  private onWindowUpdate(streamId: number, delta: number): void {
    this.sender.onWindowUpdate(this.streams.get(streamId), delta, streamId === 0);
  }

  // --- StreamOwner: the streams' access to the wire ---

  queueData(stream: SpdyStream, write: PendingWrite): void {
    if (this.closed || stream.destroyed || stream.localFinished) return write.done();
    this.sender.queue(stream, write);
  }

  sendReply(stream: SpdyStream, headers: HeaderInit): void {
    if (stream.replied) return;
    stream.replied = true;
    this.writeFrame({
      type: "SYN_REPLY",
      streamId: stream.id,
      flags: 0,
      headerBlock: this.compressor.compress(toSpdyHeaders(headers)),
    });
  }

  sendHeaders(stream: SpdyStream, headers: HeaderInit, fin: boolean): void {
    this.writeFrame({
      type: "HEADERS",
      streamId: stream.id,
      flags: fin ? FLAG_FIN : 0,
      headerBlock: this.compressor.compress(toSpdyHeaders(headers)),
    });
    if (fin) stream.localFinished = true;
  }

  sendReset(stream: SpdyStream, status: number): void {
    this.writeFrame({ type: "RST_STREAM", streamId: stream.id, status });
  }

  sendWindowUpdate(stream: SpdyStream, delta: number): void {
    this.writeFrame({ type: "WINDOW_UPDATE", streamId: stream.id, deltaWindowSize: delta });
    this.receiving.creditSession(delta);
  }

  streamRead(stream: SpdyStream): void {
    this.receiving.drained(stream, !this.closed);
  }

  streamOverfull(stream: SpdyStream): void {
    this.receiving.overfullStream(stream);
  }

  streamDestroyed(stream: SpdyStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.sender.drop(stream);
    this.streamRead(stream);
    // As spdystream's Reset: a stream whose FIN we sent is not reset, the peer may finish it.
    if (!this.closed && stream.resetStatus === undefined && !stream.localFinished) {
      stream.resetStatus = RstStatus.Cancel;
      this.sendReset(stream, RstStatus.Cancel);
    }
    this.closeWhenIdle();
  }
}
