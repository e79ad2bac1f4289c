// PING bookkeeping. Each side numbers its own pings with its own parity (client odd, server
// even, as spdystream does); a PING of the other parity is the peer's and is echoed, one of
// ours is the answer to a ping we sent.

interface PendingPing {
  sentAt: number;
  timer: NodeJS.Timeout;
  resolve: (rttMs: number) => void;
  reject: (err: Error) => void;
}

export class PingTracker {
  private nextId: number;
  private readonly pending = new Map<number, PendingPing>();

  constructor(role: "server" | "client") {
    this.nextId = role === "server" ? 2 : 1;
  }

  isOurs(id: number): boolean {
    return id % 2 === this.nextId % 2;
  }

  /** Registers a ping; send a PING with the returned id. The promise yields the RTT in ms. */
  start(timeoutMs: number): { id: number; rtt: Promise<number> } {
    const id = this.nextId;
    this.nextId = this.nextId > 0x7ffffffd ? this.nextId - 0x7ffffffe : this.nextId + 2;
    const rtt = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error(`SPDY ping ${id} timed out`)), timeoutMs);
      timer.unref();
      this.pending.set(id, { sentAt: performance.now(), timer, resolve, reject });
    });
    return { id, rtt };
  }

  /** The peer answered one of our pings. */
  answered(id: number): void {
    this.settle(id);
  }

  rejectAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }

  private settle(id: number, err?: Error): void {
    const ping = this.pending.get(id);
    if (!ping) return;
    this.pending.delete(id);
    clearTimeout(ping.timer);
    if (err) ping.reject(err);
    else ping.resolve(performance.now() - ping.sentAt);
  }
}
