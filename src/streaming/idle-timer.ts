// stream_idle_timeout for transports without one of their own (WebSocket sessions; SPDY
// sessions use SpdyConnection.setIdleTimeout): fires once when nothing touched it for the
// whole timeout. 0 (or a timeout past Node's timer limit) disables it.
import { setTimerWithin } from "../timer-limit.js";

export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    timeoutMs: number,
    private readonly onIdle: () => void,
  ) {
    this.timer = setTimerWithin(timeoutMs, () => {
      this.timer = undefined;
      this.onIdle();
    });
    this.timer?.unref();
  }

  touch(): void {
    this.timer?.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
