// ListContainers' pre-encoded reply: byte for byte what encoding { containers } gives,
// and an entry follows its container's state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContainerConfigSchema, ContainerState, ListContainersResponseSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { Container, ContainerStore, newStatus } from "../../src/container/container-store.js";
import { criContainer, listContainersReply } from "../../src/container/container-list.js";

function container(i: number): Container {
  const config = create(ContainerConfigSchema, {
    metadata: { name: `c-${i}`, attempt: i },
    image: { image: "example.com/busybox:latest" },
    labels: { app: "x", i: String(i), "ünïcode": "✓" },
    annotations: { note: "a".repeat(i * 50) },
  });
  return new Container(
    { id: `${i}`.repeat(64).slice(0, 64), name: `c-${i}`, sandboxId: "p".repeat(64), config, imageRef: "sha256:" + "e".repeat(64), imageName: "busybox", logPath: "", stopSignal: "", processLabel: "" },
    newStatus(1_700_000_000_000_000_000n + BigInt(i)),
    { spec: {}, snapshotter: "overlayfs", snapshotKey: `${i}`, runtimeType: "io.containerd.runc.v2", runtimeOptions: undefined } as never,
  );
}

test("the pre-encoded reply is byte-identical to encoding the entries, for 0, 1 and many containers", () => {
  for (const n of [0, 1, 7]) {
    const cs = Array.from({ length: n }, (_, i) => container(i));
    const expected = toBinary(ListContainersResponseSchema, create(ListContainersResponseSchema, { containers: cs.map(criContainer) }));
    assert.deepEqual(listContainersReply(cs).bytes, Buffer.from(expected), `${n} containers`);
    // Twice: the second comes from the cache.
    assert.deepEqual(listContainersReply(cs).bytes, Buffer.from(expected));
  }
});

test("an entry is encoded again when its container's state changes", () => {
  const c = container(1);
  const decode = () => fromBinary(ListContainersResponseSchema, listContainersReply([c]).bytes).containers[0]!;
  assert.equal(decode().state, ContainerState.CONTAINER_CREATED);
  const store = new ContainerStore({ write: async () => undefined, failed: () => undefined });
  store.update(c, (s) => {
    s.pid = 42;
    s.startedAt = s.createdAt + 1n;
  });
  assert.equal(decode().state, ContainerState.CONTAINER_RUNNING);
  store.update(c, (s) => {
    s.finishedAt = s.startedAt + 1n;
    s.exitCode = 3;
  });
  const entry = decode();
  assert.equal(entry.state, ContainerState.CONTAINER_EXITED);
  assert.equal(entry.labels["ünïcode"], "✓");
  assert.equal(entry.metadata?.name, "c-1");
});
