// ListPodSandbox's pre-encoded reply: byte for byte what encoding { items } gives, filters
// still apply, and an entry follows its pod's state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ListPodSandboxRequestSchema, ListPodSandboxResponseSchema, PodSandboxConfigSchema, PodSandboxState, PodSandboxStatusResponseSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { SandboxStore, type Sandbox } from "../../src/pod/sandbox-store.js";
import { listPodSandbox, podSandboxStatusReply, sandboxStatusOf } from "../../src/pod/sandbox-status.js";
import { decodedReply } from "../../src/rpc/proto-service.js";

function sandbox(i: number): Sandbox {
  const config = create(PodSandboxConfigSchema, {
    metadata: { name: `p-${i}`, uid: `uid-${i}`, namespace: "ns", attempt: i },
    labels: { app: "x", i: String(i), "ünïcode": "✓" },
    annotations: { note: "a".repeat(i * 50) },
  });
  const id = `${i}`.repeat(64).slice(0, 64);
  return {
    meta: { id, name: `p-${i}_ns_uid-${i}_${i}`, config, netnsPath: "", ip: "", additionalIps: [], runtimeHandler: i % 2 ? "runc" : "", cniResult: null, processLabel: "" },
    state: i % 3 === 0 ? "notready" : "ready",
    createdAt: 1_700_000_000_000_000_000n + BigInt(i),
    pid: 0,
    imageId: "",
    runtimeType: "io.containerd.runc.v2",
    stopping: false,
  };
}

function expectedItem(s: Sandbox) {
  return {
    id: s.meta.id,
    metadata: s.meta.config.metadata,
    state: s.state === "ready" ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY,
    createdAt: s.createdAt,
    labels: s.meta.config.labels,
    annotations: s.meta.config.annotations,
    runtimeHandler: s.meta.runtimeHandler,
  };
}

async function listed(store: SandboxStore, filter?: object): Promise<Uint8Array> {
  const handler = listPodSandbox({} as never, { sandboxes: store } as never);
  return toBinary(ListPodSandboxResponseSchema, create(ListPodSandboxResponseSchema, decodedReply(await handler(create(ListPodSandboxRequestSchema, filter ? { filter } : {}), {} as never))));
}

test("the pre-encoded reply is byte-identical to encoding the items, for 0, 1 and many pods", async () => {
  for (const n of [0, 1, 7]) {
    const store = new SandboxStore();
    const pods = Array.from({ length: n }, (_, i) => sandbox(i));
    for (const p of pods) store.add(p);
    const expected = toBinary(ListPodSandboxResponseSchema, create(ListPodSandboxResponseSchema, { items: store.list().map(expectedItem) }));
    assert.deepEqual(Buffer.from(await listed(store)), Buffer.from(expected), `${n} pods`);
    // Twice: the second comes from the cache.
    assert.deepEqual(Buffer.from(await listed(store)), Buffer.from(expected));
  }
});

test("filters still select, and an entry is encoded again when its pod's state changes", async () => {
  const store = new SandboxStore();
  const pods = [sandbox(1), sandbox(2)];
  for (const p of pods) store.add(p);
  const decode = async (filter?: object) => fromBinary(ListPodSandboxResponseSchema, await listed(store, filter)).items;
  assert.deepEqual((await decode({ id: pods[1]!.meta.id })).map((s) => s.id), [pods[1]!.meta.id]);
  assert.deepEqual((await decode({ labelSelector: { i: "1" } })).map((s) => s.metadata?.name), ["p-1"]);
  assert.equal((await decode({ id: pods[0]!.meta.id }))[0]!.state, PodSandboxState.SANDBOX_READY);
  store.setNotReady(pods[0]!);
  const entry = (await decode({ id: pods[0]!.meta.id }))[0]!;
  assert.equal(entry.state, PodSandboxState.SANDBOX_NOTREADY);
  assert.equal(entry.labels["ünïcode"], "✓");
});

test("the cached PodSandboxStatus reply is the encoded { status, timestamp }, and follows the pod's state", () => {
  const store = new SandboxStore();
  const s = sandbox(4);
  store.add(s);
  const expected = (ts: bigint) => Buffer.from(toBinary(PodSandboxStatusResponseSchema, create(PodSandboxStatusResponseSchema, { status: sandboxStatusOf(s), info: {}, timestamp: ts }))).toString("hex");
  assert.equal(podSandboxStatusReply(s, 1_764_000_000_000_000_000n).bytes.toString("hex"), expected(1_764_000_000_000_000_000n));
  assert.equal(podSandboxStatusReply(s, 5n).bytes.toString("hex"), expected(5n), "the cached status with a new timestamp");
  assert.equal(s.state, "ready");
  store.setNotReady(s);
  const after = fromBinary(PodSandboxStatusResponseSchema, podSandboxStatusReply(s, 6n).bytes);
  assert.equal(after.status?.state, PodSandboxState.SANDBOX_NOTREADY);
  assert.equal(podSandboxStatusReply(s, 6n).bytes.toString("hex"), expected(6n));
});
