// SandboxStore.update: the one way a sandbox's status changes (containerd's sandbox
// Status.Update; containerd's own records are its persistence, so nothing is written).
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { SandboxStore, type Sandbox, type SandboxState, type SandboxStatus } from "../../src/pod/sandbox-store.js";

function sandbox(id: string, state: SandboxState): Sandbox {
  return {
    meta: { id, name: `n-${id}`, config: create(PodSandboxConfigSchema, {}), netnsPath: "", ip: "", additionalIps: [], runtimeHandler: "", cniResult: null, processLabel: "" },
    state,
    createdAt: 1n,
    pid: 42,
    imageId: "",
    runtimeType: "",
    stopping: false,
  };
}

test("update applies fn's changes and returns its result; a throwing fn changes nothing", () => {
  const store = new SandboxStore();
  const s = sandbox("a", "ready");
  store.add(s);
  assert.equal(
    store.update(s, (st) => {
      st.stopping = true;
      return "done";
    }),
    "done",
  );
  assert.equal(store.get("a").stopping, true);
  assert.throws(() =>
    store.update(s, (st) => {
      st.state = "notready";
      st.pid = 0;
      throw new Error("refused");
    }),
  );
  assert.deepEqual({ state: s.state, pid: s.pid, stopping: s.stopping } satisfies SandboxStatus, { state: "ready", pid: 42, stopping: true });
});

test("setNotReady: true only on the transition (the STOPPED event is sent once), pid kept", () => {
  const store = new SandboxStore();
  const table: [SandboxState, boolean][] = [
    ["ready", true],
    ["unknown", true],
    ["notready", false],
  ];
  for (const [from, want] of table) {
    const s = sandbox(from, from);
    assert.equal(store.setNotReady(s), want, from);
    assert.equal(s.state, "notready");
    assert.equal(s.pid, 42);
    assert.equal(store.setNotReady(s), false, `${from}, again`);
  }
});
