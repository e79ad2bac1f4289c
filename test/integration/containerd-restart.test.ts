// crib across a restart of containerd: while containerd is down Status says the runtime is
// not ready and RPCs fail with UNAVAILABLE; when it is back crib reconnects by itself and
// its event subscription resumes (an exit that happens afterwards is seen). Uses a
// containerd of its own so the other test files' containerd is never restarted.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { PodSandboxState } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall } from "../client/cri-client.js";
import { containerdConfig, containerdLayout, startContainerd } from "../harness/containerd.js";
import { loadHarness } from "../harness/env.js";
import { stopDaemon, type Daemon } from "../harness/proc.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a containerd restart", () => {
  const h = loadHarness();
  const layout = containerdLayout(join(h.scratchDir, "restarted-containerd"));
  const config = containerdConfig(layout, h.hostsDir);
  let daemon: Daemon;
  let t: TestCrib;

  before(async () => {
    daemon = (await startContainerd("restarted-containerd", h.containerd.binDir, layout, config)).daemon;
    t = await startTestCrib({ containerdAddress: layout.address, restrictOOMScoreAdj: true });
  });
  after(async () => {
    await t?.removeAllPods();
    await t?.stop();
    if (daemon) await stopDaemon(daemon);
  });

  it("is survived: not ready while down, reconnected and watching exits when back", async () => {
    const podConfig = { metadata: { name: "survivor", uid: `survivor-${process.pid}`, namespace: "default", attempt: 0 }, hostname: "survivor", linux: {} };
    const id = (await t.client.runtime.runPodSandbox({ config: podConfig })).podSandboxId;
    const pid = JSON.parse((await t.client.runtime.podSandboxStatus({ podSandboxId: id, verbose: true })).info["info"]!).pid as number;

    await stopDaemon(daemon);
    const down = await t.client.runtime.status({});
    const runtimeReady = down.status!.conditions.find((c) => c.type === "RuntimeReady")!;
    assert.equal(runtimeReady.status, false);
    assert.match(runtimeReady.message, /not reachable/);
    assert.equal(await codeOfCall(t.client.runtime.version({})), Code.UNAVAILABLE);

    daemon = (await startContainerd("restarted-containerd", h.containerd.binDir, layout, config)).daemon;
    await eventually("crib reconnects", async () => (await codeOfCall(t.client.runtime.version({}))) === Code.OK);
    // The pod's shim outlived containerd: still ready.
    assert.equal((await t.client.runtime.podSandboxStatus({ podSandboxId: id })).status!.state, PodSandboxState.SANDBOX_READY);
    // An exit after the restart reaches crib through the resumed subscription (or its reconcile).
    process.kill(pid, "SIGKILL");
    await eventually(
      "the pod turns NOTREADY",
      async () => (await t.client.runtime.podSandboxStatus({ podSandboxId: id })).status!.state === PodSandboxState.SANDBOX_NOTREADY,
    );
    await t.client.runtime.removePodSandbox({ podSandboxId: id });
    assert.deepEqual((await t.client.runtime.listPodSandbox({})).items, []);
  });
});
