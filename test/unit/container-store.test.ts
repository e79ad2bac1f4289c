import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code } from "../../src/errors.js";
import { ContainerConfigSchema, ContainerState } from "../../src/gen/runtime/v1/api_pb.js";
import { Container, ContainerStore, containerState, newStatus, type ContainerStatus } from "../../src/container/container-store.js";

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
  for (const [patch, want] of table) assert.equal(codeOf(() => container("a", "sb", patch).setStarting()), want);
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
  for (const [patch, want] of table) assert.equal(codeOf(() => container("a", "sb", patch).setRemoving()), want);
});

test("store: exact id, unique prefix, ambiguous prefix, by name and by sandbox", () => {
  const store = new ContainerStore();
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
  const store = new ContainerStore();
  store.add(container("a"));
  const dup = new Container({ ...container("b").meta, name: "name-a" }, newStatus(1n), record);
  assert.equal(codeOf(() => store.add(dup)), Code.ALREADY_EXISTS);
});

test("stopped resolves on markStopped, at once for a container loaded as exited", async () => {
  const running = container("r", "sb", { startedAt: 2n });
  let done = false;
  void running.stopped.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  running.markStopped();
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
