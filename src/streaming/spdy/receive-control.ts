// The receiving half of SPDY flow control. Streams credit their own windows as their
// consumers read; this tracks the session window (SPDY/3.1) and pauses the transport while
// any stream holds more unread bytes than allowed. The pause is what bounds memory against
// spdystream, which ignores the windows we grant; it stalls the whole session, as
// spdystream's own blocking stream reads do.
import type { Duplex } from "node:stream";
import type { Frame } from "./frames.js";

export class ReceiveControl {
  private uncredited = 0;
  private readonly overfull = new Set<object>();

  constructor(
    private readonly transport: Duplex,
    private readonly writeFrame: (frame: Frame) => void,
    private readonly sessionWindow: number,
  ) {}

  /** Bytes consumed (or dropped) that the peer may send again on the session. */
  creditSession(bytes: number): void {
    this.uncredited += bytes;
    if (this.uncredited >= this.sessionWindow / 2) {
      this.writeFrame({ type: "WINDOW_UPDATE", streamId: 0, deltaWindowSize: this.uncredited });
      this.uncredited = 0;
    }
  }

  overfullStream(stream: object): void {
    this.overfull.add(stream);
    this.transport.pause();
  }

  /** The stream's consumer read (or the stream is gone): resume once no stream is overfull. */
  drained(stream: object, sessionOpen: boolean): void {
    if (!this.overfull.delete(stream)) return;
    if (this.overfull.size === 0 && sessionOpen) this.transport.resume();
  }
}
