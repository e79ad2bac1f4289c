import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code } from "../../src/errors.js";
import { ContainerConfigSchema, ContainerState } from "../../src/gen/runtime/v1/api_pb.js";
import { Container, ContainerStore, containerState, newStatus, type ContainerStatus, type StatusPersister } from "../../src/container/container-store.js";

/** A persister that keeps nothing (tests of the index and the state machine). */
const noPersist: StatusPersister = { write: async () => undefined, failed: () => undefined };

const record = { spec: { ociVersion: "1.2.1" }, snapshotter: "overlayfs", snapshotKey: "k", runtimeType: "io.containerd.runc.v2", runtimeOptions: undefined };

function container(id: string, sandboxId = "sb", patch: Partial<ContainerStatus> = {}): Container {
  return new Container(
    {
      id,
      name: `name-${id}`,
      sandboxId,
      config: create(ContainerConfigSchema, {}),
      imageRef: "",
      imageName: "",
      logPath: "",
      stopSignal: "",
      processLabel: "",
    },
    { ...newStatus(1n), ...patch },
    record,
  );
}

test("state follows containerd's Status.State()", () => {
  const table: [Partial<ContainerStatus>, ContainerState][] = [
    [{}, ContainerState.CONTAINER_CREATED],
    [{ startedAt: 2n }, ContainerState.CONTAINER_RUNNING],
    [{ startedAt: 2n, finishedAt: 3n }, ContainerState.CONTAINER_EXITED],
    [{ finishedAt: 3n }, ContainerState.CONTAINER_EXITED], // start failed
    [{ startedAt: 2n, unknown: true }, ContainerState.CONTAINER_UNKNOWN],
    [{ createdAt: 0n }, ContainerState.CONTAINER_UNKNOWN],
  ];
  for (const [patch, want] of table) assert.equal(containerState({ ...newStatus(1n), ...patch }), want, JSON.stringify(patch, (_, v) => (typeof v === "bigint" ? String(v) : v)));
});

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (e) {
    return (e as { code: number }).code;
  }
  return Code.OK;
};

test("setStarting only from CREATED, not while removing or starting", () => {
  const table: [Partial<ContainerStatus>, number][] = [
    [{}, Code.OK],
    [{ startedAt: 2n }, Code.FAILED_PRECONDITION],
    [{ finishedAt: 2n }, Code.FAILED_PRECONDITION],
    [{ removing: true }, Code.FAILED_PRECONDITION],
    [{ starting: true }, Code.FAILED_PRECONDITION],
  ];
  for (const [patch, want] of table) assert.equal(codeOf(() => new ContainerStore(noPersist).setStarting(container("a", "sb", patch))), want);
});

test("setRemoving refuses running, unknown, starting and already removing containers", () => {
  const table: [Partial<ContainerStatus>, number][] = [
    [{}, Code.OK],
    [{ startedAt: 2n, finishedAt: 3n }, Code.OK],
    [{ startedAt: 2n }, Code.FAILED_PRECONDITION],
    [{ unknown: true }, Code.FAILED_PRECONDITION],
    [{ starting: true }, Code.FAILED_PRECONDITION],
    [{ removing: true }, Code.FAILED_PRECONDITION],
  ];
  for (const [patch, want] of table) assert.equal(codeOf(() => new ContainerStore(noPersist).setRemoving(container("a", "sb", patch))), want);
});

test("store: exact id, unique prefix, ambiguous prefix, by name and by sandbox", () => {
  const store = new ContainerStore(noPersist);
  store.add(container("abc1", "p1"));
  store.add(container("abc2", "p1"));
  store.add(container("xyz", "p2"));
  assert.equal(store.get("abc1").id, "abc1");
  assert.equal(store.get("x").id, "xyz");
  assert.equal(store.find("abc"), undefined);
  assert.equal(codeOf(() => store.get("abc")), Code.NOT_FOUND);
  assert.equal(codeOf(() => store.get("")), Code.NOT_FOUND);
  assert.equal(store.byName("name-xyz")?.id, "xyz");
  assert.deepEqual(store.listBySandbox("p1").map((c) => c.id).sort(), ["abc1", "abc2"]);
  store.delete("xyz");
  assert.equal(store.byName("name-xyz"), undefined);
  assert.equal(store.find("xyz"), undefined);
});

test("a second container cannot take a live container's name", () => {
  const store = new ContainerStore(noPersist);
  store.add(container("a"));
  const dup = new Container({ ...container("b").meta, name: "name-a" }, newStatus(1n), record);
  assert.equal(codeOf(() => store.add(dup)), Code.ALREADY_EXISTS);
});

test("stopped resolves once an EXITED status is checkpointed, at once for a container loaded as exited", async () => {
  const store = new ContainerStore(noPersist);
  const running = container("r", "sb", { startedAt: 2n });
  let done = false;
  void running.stopped.then(() => (done = true));
  // A checkpointed change that leaves it running, and an exit applied in memory only: not stopped.
  await store.updateSync(running, (s) => {
    s.reason = "OOMKilled";
  });
  store.update(running, (s) => {
    s.finishedAt = 3n;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  await store.updateSync(running, () => undefined);
  await running.stopped;
  await container("e", "sb", { startedAt: 2n, finishedAt: 3n }).stopped;
});

test("withLock runs operations on one container one after another, even after a failure", async () => {
  const c = container("l");
  const order: string[] = [];
  const slow = c.withLock(async () => {
    await new Promise((r) => setTimeout(r, 20));
    order.push("first");
    throw new Error("boom");
  });
  const second = c.withLock(async () => {
    order.push("second");
    return 2;
  });
  await assert.rejects(slow, /boom/);
  assert.equal(await second, 2);
  assert.deepEqual(order, ["first", "second"]);
});

/** A persister that records each write as it starts and ends, and finishes it when told. */
function gatedPersister() {
  const log: string[] = [];
  const gates: (() => void)[] = [];
  const failures: string[] = [];
  let failNext = false;
  const persister: StatusPersister = {
    write: (id, s) => {
      log.push(`start ${id} ${s.reason}`);
      const fail = failNext;
      failNext = false;
      return new Promise<void>((resolve, reject) =>
        gates.push(() => {
          log.push(`end ${id} ${s.reason}`);
          if (fail) reject(new Error("disk full"));
          else resolve();
        }),
      );
    },
    failed: (id, e) => failures.push(`${id}: ${(e as Error).message}`),
  };
  const openNext = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { persister, log, failures, openNext, failNextWrite: () => (failNext = true) };
}

test("updateSync applies at once, then writes what it applied, and resolves once it is written", async () => {
  const p = gatedPersister();
  const store = new ContainerStore(p.persister);
  const c = container("u");
  let resolved = false;
  const done = store
    .updateSync(c, (s) => {
      s.reason = "first";
      return "fn's result";
    })
    .then((v) => {
      resolved = true;
      return v;
    });
  // Applied (and visible) before the write ends; the write carries the applied status.
  assert.equal(c.status.reason, "first");
  assert.deepEqual(p.log, ["start u first"]);
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false);
  await p.openNext();
  assert.equal(await done, "fn's result");
  assert.deepEqual(p.log, ["start u first", "end u first"]);
});

test("one container's writes run one at a time, in update order, each with its own status", async () => {
  const p = gatedPersister();
  const store = new ContainerStore(p.persister);
  const a = container("a");
  const b = container("b");
  const order: string[] = [];
  const first = store.updateSync(a, (s) => void (s.reason = "1")).then(() => order.push("a1"));
  const second = store.updateSync(a, (s) => void (s.reason = "2")).then(() => order.push("a2"));
  // Another container's write does not wait for a's.
  const other = store.updateSync(b, (s) => void (s.reason = "x")).then(() => order.push("bx"));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(p.log, ["start a 1", "start b x"]);
  assert.equal(a.status.reason, "2"); // both applied in memory already
  await p.openNext(); // a 1
  await first;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(p.log, ["start a 1", "start b x", "end a 1", "start a 2"]);
  await p.openNext(); // b x
  await p.openNext(); // a 2
  await Promise.all([second, other]);
  assert.deepEqual(order, ["a1", "bx", "a2"]);
  assert.deepEqual(p.log.slice(-2), ["end b x", "end a 2"]);
});

test("a failed write is reported, the status stays as applied, and the next update writes again", async () => {
  const p = gatedPersister();
  const store = new ContainerStore(p.persister);
  const c = container("f", "sb", { startedAt: 2n });
  p.failNextWrite();
  const failed = store.updateSync(c, (s) => {
    s.finishedAt = 3n;
    s.reason = "exit";
  });
  await p.openNext();
  await failed; // resolves: crib keeps the in-memory truth (containerd would return the error and keep the old status)
  assert.deepEqual(p.failures, ["f: disk full"]);
  assert.equal(c.state, ContainerState.CONTAINER_EXITED);
  await c.stopped;
  const again = store.updateSync(c, (s) => void (s.message = "m"));
  await p.openNext();
  await again;
  assert.deepEqual(p.log.slice(-2), ["start f exit", "end f exit"]);
  assert.equal(p.failures.length, 1);
});

test("an update whose fn throws changes nothing, and the status cannot be written from outside", () => {
  const store = new ContainerStore(noPersist);
  const c = container("t");
  const before = c.status;
  assert.throws(() =>
    store.update(c, (s) => {
      s.reason = "half";
      throw new Error("refused");
    }),
  );
  assert.equal(c.status, before);
  assert.equal(c.status.reason, "");
  assert.throws(() => {
    (c.status as ContainerStatus).reason = "sneaky";
  }, TypeError);
});

test("checkpointNew writes through the persister and returns its failure", async () => {
  const writes: string[] = [];
  const store = new ContainerStore({
    write: async (id) => {
      writes.push(id);
      if (id === "bad") throw new Error("no space");
    },
    failed: () => assert.fail("a create's checkpoint failure is returned, not reported"),
  });
  await store.checkpointNew("good", newStatus(1n));
  await assert.rejects(store.checkpointNew("bad", newStatus(1n)), /no space/);
  assert.deepEqual(writes, ["good", "bad"]);
});
