// One SPDY stream as a Node Duplex: what the peer sends arrives on the readable side (FIN is
// end-of-stream), what is written goes out as DATA frames (end() sends FIN). The connection
// owns the wire; the stream keeps its half-close state and its receive-window accounting:
// bytes are credited back to the peer (WINDOW_UPDATE) only once the consumer has read them,
// so a consumer that stops reading stops the peer (or, for peers like spdystream that ignore
// windows, makes the connection pause its transport).
import { Duplex } from "node:stream";
import type { SpdyHeaders, HeaderInit } from "./header-compression.js";
import { RstStatus } from "./frames.js";

export interface PendingWrite {
  data: Buffer;
  fin: boolean;
  done: () => void;
}

/** What a stream needs from its connection. */
export interface StreamOwner {
  queueData(stream: SpdyStream, write: PendingWrite): void;
  sendReply(stream: SpdyStream, headers: HeaderInit): void;
  sendHeaders(stream: SpdyStream, headers: HeaderInit, fin: boolean): void;
  sendReset(stream: SpdyStream, status: number): void;
  sendWindowUpdate(stream: SpdyStream, delta: number): void;
  /** The consumer read: resume the transport if this stream had paused it. */
  streamRead(stream: SpdyStream): void;
  /** The stream holds more unread bytes than allowed: pause the transport. */
  streamOverfull(stream: SpdyStream): void;
  streamDestroyed(stream: SpdyStream): void;
}

export interface StreamSettings {
  /** Window we granted the peer for this stream; credit is returned in halves of it. */
  receiveWindow: number;
  /** Unread bytes beyond which the transport is paused (peers that ignore windows). */
  maxBufferedBytes: number;
  /** Initial window the peer granted us. */
  sendWindow: number;
}

export class SpdyStream extends Duplex {
  /** Headers of the SYN_STREAM that opened the stream (ours or the peer's). */
  readonly headers: SpdyHeaders;
  /** Headers of the SYN_REPLY, once the peer replied to a stream we opened. */
  replyHeaders: SpdyHeaders | undefined;
  /** RST_STREAM status, when either side reset the stream. */
  resetStatus: number | undefined;
  /** Incoming: we sent SYN_REPLY. Outgoing: the peer's SYN_REPLY arrived. */
  replied = false;
  localFinished = false;
  remoteFinished = false;
  /** Bytes the peer still lets us send on this stream (may go negative after SETTINGS). */
  sendWindow: number;

  private receivedBytes = 0;
  private creditedBytes = 0;

  constructor(
    readonly id: number,
    headers: SpdyHeaders,
    readonly initiatedLocally: boolean,
    private readonly owner: StreamOwner,
    private readonly settings: StreamSettings,
  ) {
    super({ allowHalfOpen: true, autoDestroy: true, emitClose: true, decodeStrings: true });
    this.headers = headers;
    this.sendWindow = settings.sendWindow;
  }

  /** Accepts a stream the peer opened (sends SYN_REPLY). Idempotent. */
  accept(headers: HeaderInit = {}): void {
    if (this.initiatedLocally || this.replied || this.destroyed) return;
    this.owner.sendReply(this, headers);
  }

  /**
   * For a stream we opened: resolves with the peer's SYN_REPLY headers, rejects if the peer
   * resets the stream, the session ends or timeoutMs passes (apimachinery waits 30 s).
   */
  waitForReply(timeoutMs = 30_000): Promise<SpdyHeaders> {
    if (this.replyHeaders) return Promise.resolve(this.replyHeaders);
    if (this.destroyed) return Promise.reject(new Error(`SPDY stream ${this.id} closed before its reply`));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off("reply", onReply);
        this.off("close", onClose);
      };
      const onReply = (headers: SpdyHeaders) => {
        cleanup();
        resolve(headers);
      };
      const onClose = () => {
        cleanup();
        const why = this.resetStatus !== undefined ? `reset (status ${this.resetStatus})` : "closed";
        reject(new Error(`SPDY stream ${this.id} ${why} before its reply`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for the reply to SPDY stream ${this.id}`));
      }, timeoutMs);
      timer.unref();
      this.on("reply", onReply);
      this.on("close", onClose);
    });
  }

  /** Sends a HEADERS frame on the stream. */
  sendHeaders(headers: HeaderInit, fin = false): void {
    if (!this.destroyed && !this.localFinished) this.owner.sendHeaders(this, headers, fin);
  }

  /** Aborts both directions (RST_STREAM, CANCEL by default; REFUSED_STREAM to refuse). */
  reset(status: number = RstStatus.Cancel): void {
    if (this.destroyed) return;
    if (this.resetStatus === undefined && !(this.localFinished && this.remoteFinished)) {
      this.resetStatus = status;
      this.owner.sendReset(this, status);
    }
    this.destroy();
  }

  /** Peer data (connection side). */
  receiveData(data: Buffer, fin: boolean): void {
    if (this.destroyed || this.remoteFinished) return;
    if (data.length > 0) {
      this.receivedBytes += data.length;
      this.push(data);
    }
    if (fin) this.receiveFin();
    else if (this.readableLength > this.settings.maxBufferedBytes) this.owner.streamOverfull(this);
    this.creditConsumed();
  }

  receiveFin(): void {
    if (this.destroyed || this.remoteFinished) return;
    this.remoteFinished = true;
    this.push(null);
  }

  /** Peer reset (connection side): no RST goes back. */
  receiveReset(status: number): void {
    this.resetStatus = status;
    this.remoteFinished = true;
    this.localFinished = true;
    this.emit("reset", status);
    this.destroy();
  }

  override _read(): void {
    // read() calls _read before it takes the bytes out of the buffer: count them afterwards.
    queueMicrotask(() => this.creditConsumed());
    this.owner.streamRead(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.initiatedLocally && !this.replied) this.accept();
    this.owner.queueData(this, { data: chunk, fin: false, done: () => callback() });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.localFinished) return callback();
    if (!this.initiatedLocally && !this.replied) this.accept();
    this.owner.queueData(this, { data: Buffer.alloc(0), fin: true, done: () => callback() });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.owner.streamDestroyed(this);
    callback(error);
  }

  /** Returns read bytes to the peer's window once half the window has been consumed. */
  private creditConsumed(): void {
    if (this.remoteFinished) return;
    const consumed = this.receivedBytes - this.creditedBytes - this.readableLength;
    if (consumed >= this.settings.receiveWindow / 2) {
      this.creditedBytes += consumed;
      this.owner.sendWindowUpdate(this, consumed);
    }
  }
}
