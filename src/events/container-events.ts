// The container event feed behind GetContainerEvents (the kubelet's evented PLEG). The pod
// and container RPCs, and the exit handling fed by the one containerd events subscription,
// call emit() right after a state change is in the store, so a subscriber that asks the
// status RPCs about an event sees at least that state (containerd's
// generateAndSendContainerEvent). Each event carries the pod's status and the statuses of
// its containers, read when it is emitted.
//
// Every subscriber has its own bounded queue and emit() never waits for one: a subscriber
// whose queue fills up (it stopped reading) is dropped with RESOURCE_EXHAUSTED, and the
// others go on.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ContainerEventResponseSchema,
  ContainerEventType,
  type ContainerEventResponse,
  type ContainerStatusSchema,
  type PodSandboxStatusSchema,
} from "../gen/runtime/v1/api_pb.js";
import { Code, CriError, messageOf } from "../errors.js";
import type { Logger } from "../log.js";
import type { ContainerEventSink } from "../common/container-event-sink.js";

export { ContainerEventType };

/** Where the statuses an event carries come from (the stores). */
export interface EventStatusSource {
  sandboxStatus(sandboxId: string): MessageInitShape<typeof PodSandboxStatusSchema> | undefined;
  containerStatuses(sandboxId: string): MessageInitShape<typeof ContainerStatusSchema>[];
}

/** Events a subscriber may have waiting before it is dropped. */
export const DEFAULT_MAX_QUEUED_EVENTS = 1024;

export class EventSubscription {
  private readonly queue: ContainerEventResponse[] = [];
  private wake: (() => void) | undefined;
  private interruptResolve!: () => void;
  private closedFlag = false;
  /** Set when the hub dropped this subscriber. */
  failure: CriError | undefined;
  /** Resolves when the subscription is closed or dropped (to stop waiting on a stuck client). */
  readonly interrupted: Promise<void>;

  constructor(
    private readonly maxQueued: number,
    private readonly onClose: (s: EventSubscription) => void,
  ) {
    this.interrupted = new Promise((r) => (this.interruptResolve = r));
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Events waiting to be taken. */
  get queued(): number {
    return this.queue.length;
  }

  /** The next event; undefined once closed; throws the drop error once dropped. */
  async next(): Promise<ContainerEventResponse | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      const e = this.queue.shift();
      if (e) return e;
      if (this.closedFlag) return undefined;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  /** Called by the hub; false when the subscriber was dropped for falling behind. */
  push(e: ContainerEventResponse): boolean {
    if (this.closedFlag) return true;
    if (this.queue.length >= this.maxQueued) {
      this.fail(
        new CriError(
          Code.RESOURCE_EXHAUSTED,
          `GetContainerEvents subscriber dropped: ${this.queue.length} events were waiting, it does not read fast enough; subscribe again and relist`,
        ),
      );
      return false;
    }
    this.queue.push(e);
    this.wake?.();
    return true;
  }

  private fail(e: CriError): void {
    this.failure = e;
    this.queue.length = 0;
    this.close();
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.onClose(this);
    this.interruptResolve();
    this.wake?.();
  }
}

export class ContainerEventHub implements ContainerEventSink {
  private readonly subscribers = new Set<EventSubscription>();
  private source: EventStatusSource | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly maxQueued = DEFAULT_MAX_QUEUED_EVENTS,
  ) {}

  /** The stores are built after the hub; events need them from the first RPC on. */
  attach(source: EventStatusSource): void {
    this.source = source;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  subscribe(): EventSubscription {
    const s = new EventSubscription(this.maxQueued, (sub) => this.subscribers.delete(sub));
    this.subscribers.add(s);
    return s;
  }

  emit(
    type: ContainerEventType,
    containerId: string,
    sandboxId: string,
    sandboxStatus?: MessageInitShape<typeof PodSandboxStatusSchema>,
  ): void {
    if (this.subscribers.size === 0) return;
    let event: ContainerEventResponse;
    try {
      event = create(ContainerEventResponseSchema, {
        containerId,
        containerEventType: type,
        createdAt: BigInt(Date.now()) * 1_000_000n,
        podSandboxStatus: this.source?.sandboxStatus(sandboxId) ?? sandboxStatus,
        containersStatuses: this.source?.containerStatuses(sandboxId) ?? [],
      });
    } catch (e) {
      // An event is a hint (the kubelet relists anyway); never fail the RPC that caused it.
      this.logger.warn("failed to build container event", { containerId, podSandboxId: sandboxId, error: messageOf(e) });
      return;
    }
    for (const s of [...this.subscribers]) {
      if (!s.push(event)) this.logger.warn("dropped a GetContainerEvents subscriber that fell behind", { queued: this.maxQueued });
    }
  }

  /** Ends every subscription (crib is stopping): their streams finish cleanly. */
  close(): void {
    for (const s of [...this.subscribers]) s.close();
  }
}
