// The container event hub: order, statuses, bounded queues and dropping a subscriber that
// stopped reading without holding up the others.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status as Code } from "@grpc/grpc-js";
import { ContainerEventHub, ContainerEventType, type EventStatusSource } from "../../src/events/container-events.js";
import { CriError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";

const { CONTAINER_CREATED_EVENT: CREATED, CONTAINER_STARTED_EVENT: STARTED, CONTAINER_STOPPED_EVENT: STOPPED, CONTAINER_DELETED_EVENT: DELETED } =
  ContainerEventType;

function source(reads: string[] = []): EventStatusSource {
  return {
    sandboxStatus: (id) => {
      reads.push(`sandbox ${id}`);
      return id === "gone" ? undefined : { id, metadata: { name: `pod-${id}`, uid: `uid-${id}`, namespace: "ns", attempt: 0 } };
    },
    containerStatuses: (id) => {
      reads.push(`containers ${id}`);
      return id === "pod" ? [{ id: "c1" }, { id: "c2" }] : [];
    },
  };
}

async function take(sub: { next(): Promise<unknown> }, n: number): Promise<unknown[]> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await sub.next());
  return out;
}

describe("ContainerEventHub", () => {
  test("every subscriber gets every event, in order, with the statuses of the moment", async () => {
    const hub = new ContainerEventHub(silentLogger());
    hub.attach(source());
    const a = hub.subscribe();
    const b = hub.subscribe();
    const lifecycle = [CREATED, STARTED, STOPPED, DELETED];
    for (const t of lifecycle) hub.emit(t, "c1", "pod");
    for (const sub of [a, b]) {
      const got = (await take(sub, 4)) as { containerEventType: number; containerId: string; podSandboxStatus?: { id: string }; containersStatuses: { id: string }[]; createdAt: bigint }[];
      assert.deepEqual(got.map((e) => e.containerEventType), lifecycle);
      for (const e of got) {
        assert.equal(e.containerId, "c1");
        assert.equal(e.podSandboxStatus?.id, "pod");
        assert.deepEqual(e.containersStatuses.map((c) => c.id), ["c1", "c2"]);
        assert.ok(e.createdAt > 1_600_000_000_000_000_000n, "created_at in nanoseconds");
      }
    }
  });

  test("a sandbox no longer in the store: the status given by the caller stands in", async () => {
    const hub = new ContainerEventHub(silentLogger());
    hub.attach(source());
    const sub = hub.subscribe();
    hub.emit(DELETED, "gone", "gone", { id: "gone", metadata: { name: "last", uid: "u", namespace: "ns", attempt: 0 } });
    const e = (await sub.next()) as { podSandboxStatus?: { id: string; metadata?: { name: string } } };
    assert.equal(e.podSandboxStatus?.metadata?.name, "last");
  });

  test("with nobody subscribed nothing is built", () => {
    const reads: string[] = [];
    const hub = new ContainerEventHub(silentLogger());
    hub.attach(source(reads));
    hub.emit(CREATED, "c1", "pod");
    assert.deepEqual(reads, []);
    const sub = hub.subscribe();
    sub.close();
    hub.emit(CREATED, "c1", "pod");
    assert.deepEqual(reads, [], "a closed subscription is gone");
  });

  test("a subscriber that stops reading is dropped with RESOURCE_EXHAUSTED; the others get everything", async () => {
    const hub = new ContainerEventHub(silentLogger(), 4);
    hub.attach(source());
    const stuck = hub.subscribe();
    const reader = hub.subscribe();
    const received: string[] = [];
    const reading = (async () => {
      for (;;) {
        const e = await reader.next();
        if (!e) return;
        received.push(e.containerId);
      }
    })();
    for (let i = 0; i < 50; i++) {
      hub.emit(STARTED, `c${i}`, "pod");
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(stuck.closed, true);
    assert.equal(hub.subscriberCount, 1);
    await assert.rejects(stuck.next(), (e: unknown) => e instanceof CriError && e.code === Code.RESOURCE_EXHAUSTED && /does not read fast enough/.test(e.message));
    hub.close();
    await reading;
    assert.equal(received.length, 50);
    assert.deepEqual(received.slice(0, 3), ["c0", "c1", "c2"]);
  });

  test("the queue bound counts waiting events, not events ever sent", async () => {
    const hub = new ContainerEventHub(silentLogger(), 2);
    const sub = hub.subscribe();
    for (let i = 0; i < 10; i++) {
      hub.emit(CREATED, `c${i}`, "pod");
      hub.emit(STARTED, `c${i}`, "pod");
      assert.equal(sub.queued, 2);
      await take(sub, 2);
    }
    assert.equal(sub.closed, false);
    hub.emit(CREATED, "x", "pod");
    hub.emit(CREATED, "y", "pod");
    hub.emit(CREATED, "z", "pod");
    assert.equal(sub.closed, true, "the third waiting event is one too many");
  });

  test("close ends every subscription after what is queued", async () => {
    const hub = new ContainerEventHub(silentLogger());
    const sub = hub.subscribe();
    const waiting = sub.next();
    hub.emit(CREATED, "c1", "pod");
    assert.equal((await waiting)?.containerId, "c1");
    hub.emit(STARTED, "c1", "pod");
    hub.close();
    assert.equal((await sub.next())?.containerEventType, STARTED);
    assert.equal(await sub.next(), undefined);
    await sub.interrupted;
  });
});
