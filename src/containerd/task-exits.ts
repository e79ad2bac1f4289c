// One subscription to containerd's Events service for the whole server: task exits (and
// OOMs) of our namespace are dispatched to whoever watches a container. The stream is
// re-opened after containerd restarts, and every re-open triggers a reconcile so an exit
// that happened while we were disconnected is not missed.
import { TaskExitSchema, TaskOOMSchema } from "../gen/github.com/containerd/containerd/api/events/task_pb.js";
import type { Containerd } from "./client.js";
import { unpackAny } from "./any.js";
import { messageOf } from "../errors.js";
import type { Logger } from "../log.js";
import { nowNs, timestampNs } from "../clock.js";

export interface TaskExit {
  containerId: string;
  /** Process id inside containerd: equals containerId for the init process, else an exec id. */
  processId: string;
  pid: number;
  exitStatus: number;
  /** Nanoseconds since the epoch, as containerd reported it. */
  exitedAtNs: bigint;
}

export interface TaskEventHandlers {
  onExit(e: TaskExit): void;
  onOOM?(containerId: string): void;
  /** Called after each (re)subscription: look at containerd for exits we may have missed. */
  reconcile(): Promise<void>;
}

export class TaskExitMonitor {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly cd: Containerd,
    private readonly handlers: TaskEventHandlers,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the first subscription is open (so no exit after start() is missed). */
  start(): Promise<void> {
    let firstOpen!: () => void;
    const opened = new Promise<void>((r) => (firstOpen = r));
    this.running = this.loop(firstOpen);
    return opened;
  }

  private async loop(opened: () => void): Promise<void> {
    const filters = [`namespace==${this.cd.namespace},topic=="/tasks/exit"`, `namespace==${this.cd.namespace},topic=="/tasks/oom"`];
    let backoff = 100;
    while (!this.abort.signal.aborted) {
      try {
        const stream = this.cd.events.subscribe({ filters }, { timeoutMs: 0, signal: this.abort.signal });
        const iter = stream[Symbol.asyncIterator]();
        // The subscription is live once containerd accepted it; reconcile after that so
        // nothing falls between the reconcile and the first event.
        const first = iter.next();
        first.catch(() => undefined); // observed below; keeps a broken stream from being an unhandled rejection meanwhile
        await new Promise((r) => setTimeout(r, 50));
        await this.handlers.reconcile().catch((e) => this.logger.warn("reconcile after subscribe failed", { error: messageOf(e) }));
        opened();
        backoff = 100;
        let next = first;
        for (;;) {
          const { value, done } = await next;
          if (done) break;
          this.dispatch(value.topic, value.event);
          next = iter.next();
        }
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.logger.warn("containerd event stream broke; resubscribing", { error: messageOf(e) });
      }
      opened(); // never leave start() hanging when containerd is down at start
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  }

  private dispatch(topic: string, event: Parameters<typeof unpackAny>[0]): void {
    if (topic === "/tasks/exit") {
      const e = unpackAny(event, TaskExitSchema);
      if (!e) return;
      const exit = {
        containerId: e.containerId,
        processId: e.id,
        pid: e.pid,
        exitStatus: e.exitStatus,
        exitedAtNs: timestampNs(e.exitedAt) ?? nowNs(),
      };
      const rec = this.cd.recorder;
      if (rec) rec.background("(task exit)", { containerId: exit.containerId, processId: exit.processId }, () => this.handlers.onExit(exit));
      else this.handlers.onExit(exit);
    } else if (topic === "/tasks/oom") {
      const e = unpackAny(event, TaskOOMSchema);
      if (e) this.handlers.onOOM?.(e.containerId);
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
