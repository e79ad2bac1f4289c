// The sending half of SPDY flow control: DATA frames for each stream's pending write, cut
// to the frame size and, when the peer keeps windows, to its stream and session windows.
// A write's callback fires once its bytes are handed to a transport that is not asking to
// drain, so a producer writing faster than the peer reads is held back end to end.
//
// "auto" mode exists for spdystream (kubelet, crictl, client-go): it never sends
// WINDOW_UPDATE, so holding it to the 64 KiB initial window would stall every stream. We
// start honouring windows once the peer shows it keeps them (SETTINGS INITIAL_WINDOW_SIZE or
// any WINDOW_UPDATE). Window arithmetic runs in every mode, so when a peer's first
// WINDOW_UPDATE arrives late the windows still say what it has not yet consumed.
import type { Duplex } from "node:stream";
import { DEFAULT_INITIAL_WINDOW_SIZE, FLAG_FIN, MAX_WINDOW_SIZE, type Frame } from "./frames.js";
import type { PendingWrite, SpdyStream } from "./stream.js";

export type FlowControlMode = "auto" | "enforce" | "ignore";

export class DataSender {
  private readonly pendingWrites = new Map<SpdyStream, PendingWrite>();
  private readonly drainWaiters: Array<() => void> = [];
  private peerKeepsWindows: boolean;
  private sessionWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  /** Window the peer grants every new stream (SETTINGS INITIAL_WINDOW_SIZE). */
  peerInitialWindow = DEFAULT_INITIAL_WINDOW_SIZE;

  constructor(
    private readonly transport: Duplex,
    private readonly writeFrame: (frame: Frame) => void,
    private readonly mode: FlowControlMode,
    private readonly maxFrameSize: number,
  ) {
    this.peerKeepsWindows = mode === "enforce";
    transport.on("drain", () => this.flushDrainWaiters());
  }

  get pendingCount(): number {
    return this.pendingWrites.size;
  }

  queue(stream: SpdyStream, write: PendingWrite): void {
    this.pendingWrites.set(stream, write);
    this.trySend(stream);
  }

  /** The stream got its SYN_REPLY: writes held for it may go. */
  replied(stream: SpdyStream): void {
    this.trySend(stream);
  }

  onWindowUpdate(stream: SpdyStream | undefined, delta: number, session: boolean): void {
    this.peerShowsFlowControl();
    if (session) this.sessionWindow = Math.min(this.sessionWindow + delta, MAX_WINDOW_SIZE);
    else if (stream) stream.sendWindow = Math.min(stream.sendWindow + delta, MAX_WINDOW_SIZE);
    this.retryAll();
  }

  onInitialWindowSize(value: number, streams: Iterable<SpdyStream>): void {
    this.peerShowsFlowControl();
    const capped = Math.min(value, MAX_WINDOW_SIZE);
    const delta = capped - this.peerInitialWindow;
    this.peerInitialWindow = capped;
    for (const stream of streams) stream.sendWindow += delta;
    this.retryAll();
  }

  /** The stream is gone: release its writer (its bytes will never be sent). */
  drop(stream: SpdyStream): void {
    const write = this.pendingWrites.get(stream);
    this.pendingWrites.delete(stream);
    write?.done();
  }

  releaseAll(): void {
    for (const write of this.pendingWrites.values()) write.done();
    this.pendingWrites.clear();
    this.flushDrainWaiters();
  }

  private peerShowsFlowControl(): void {
    if (this.mode === "auto") this.peerKeepsWindows = true;
  }

  private retryAll(): void {
    for (const stream of [...this.pendingWrites.keys()]) this.trySend(stream);
  }

  private trySend(stream: SpdyStream): void {
    const write = this.pendingWrites.get(stream);
    if (!write) return;
    // spdystream drops DATA that arrives before its SYN_REPLY went out, so wait for it.
    if (stream.initiatedLocally && !stream.replied) return;
    let finSent = false;
    while (write.data.length > 0) {
      let allowed = this.maxFrameSize;
      if (this.peerKeepsWindows) allowed = Math.min(allowed, stream.sendWindow, this.sessionWindow);
      if (allowed <= 0) return;
      const piece = write.data.subarray(0, allowed);
      write.data = write.data.subarray(piece.length);
      finSent = write.fin && write.data.length === 0;
      this.writeFrame({ type: "DATA", streamId: stream.id, flags: finSent ? FLAG_FIN : 0, data: piece });
      stream.sendWindow -= piece.length;
      this.sessionWindow -= piece.length;
    }
    if (write.fin && !finSent) this.writeFrame({ type: "DATA", streamId: stream.id, flags: FLAG_FIN, data: Buffer.alloc(0) });
    if (write.fin) stream.localFinished = true;
    this.pendingWrites.delete(stream);
    if (this.transport.writableNeedDrain) this.drainWaiters.push(write.done);
    else write.done();
  }

  private flushDrainWaiters(): void {
    for (const waiter of this.drainWaiters.splice(0)) waiter();
  }
}
