// stream_idle_timeout for transports without one of their own (WebSocket sessions; SPDY
// sessions use SpdyConnection.setIdleTimeout): fires once when nothing touched it for the
// whole timeout. 0 disables it.
export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    timeoutMs: number,
    private readonly onIdle: () => void,
  ) {
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.onIdle();
      }, timeoutMs);
      this.timer.unref();
    }
  }

  touch(): void {
    this.timer?.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
