// --trace-file end to end: the lines a real run writes, `crib trace` printing them, and
// nothing recorded (no request fields picked) when the flag is off.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseTrace, isNote } from "../../src/trace/print.js";
import type { TraceLine } from "../../src/trace/recorder.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { loadHarness } from "../harness/env.js";

const CRIB = join(import.meta.dirname, "../../bin/crib");

describe("trace file", () => {
  let t: TestCrib;
  let traceFile: string;
  before(async () => {
    traceFile = join(loadHarness().scratchDir, `trace-${process.pid}.jsonl`);
    t = await startTestCrib({ restrictOOMScoreAdj: true, traceFile });
  });
  after(() => t.stop()); // the test removes its pod and stops crib itself (to close the file)

  it("records each RPC with its request ids and the containerd calls it made, in order", async () => {
    await t.client.image.pullImage({ image: { image: t.harness.images.busybox } });
    const { podSandboxId } = await t.client.runtime.runPodSandbox({
      config: { metadata: { name: "traced", uid: "u1", namespace: "default", attempt: 0 }, hostname: "traced", linux: {} },
    });
    await t.client.runtime.removePodSandbox({ podSandboxId });
    await t.client.runtime.containerStatus({ containerId: "no-such" }).catch(() => undefined);
    await t.crib.deps.containerd.recorder!.settled();
    await t.stop();

    const lines = parseTrace(readFileSync(traceFile, "utf8")).filter((e): e is TraceLine => !isNote(e));
    assert.equal(lines[0]!.rpc, "(start-up check)");
    assert.ok(lines.some((l) => l.rpc === "(start-up)"));
    const pull = lines.find((l) => l.rpc === "PullImage")!;
    assert.equal(pull.request["image"], t.harness.images.busybox);
    const transfer = pull.calls.find((c) => c.method === "transfer.v1.Transfer/Transfer")!;
    assert.equal(transfer.fields["reference"], t.harness.images.busybox);

    const run = lines.find((l) => l.rpc === "RunPodSandbox")!;
    assert.equal(run.code, "OK");
    assert.equal(run.request["name"], "traced");
    const methods = run.calls.map((c) => c.method);
    for (const m of ["sandbox.v1.Store/Create", "snapshots.v1.Snapshots/Prepare", "containers.v1.Containers/Create", "tasks.v1.Tasks/Create", "tasks.v1.Tasks/Start"]) {
      assert.ok(methods.includes(m), `${m} in ${methods.join(", ")}`);
    }
    assert.ok(methods.indexOf("containers.v1.Containers/Create") < methods.indexOf("tasks.v1.Tasks/Create"), "in call order");
    const create = run.calls.find((c) => c.method === "containers.v1.Containers/Create")!;
    assert.deepEqual([create.fields["id"], create.fields["kind"], create.fields["snapshotKey"]], [podSandboxId, "sandbox", podSandboxId]);
    assert.equal(run.calls.find((c) => c.method === "leases.v1.Leases/Create")!.fields["id"], `crib-run-${podSandboxId}`);
    for (const c of run.calls) assert.ok(c.at >= 0 && c.ms >= 0 && c.code === "OK", JSON.stringify(c));

    const remove = lines.find((l) => l.rpc === "RemovePodSandbox")!;
    assert.equal(remove.request["podSandboxId"], podSandboxId);
    const missing = lines.find((l) => l.rpc === "ContainerStatus")!;
    assert.equal(missing.code, "NOT_FOUND");
    assert.match(missing.error ?? "", /not found/);

    // `crib trace FILE`: one call tree per RPC.
    const printed = execFileSync(CRIB, ["trace", traceFile], { encoding: "utf8" });
    assert.match(printed, new RegExp(`^RunPodSandbox  name=traced  OK  `, "m"));
    assert.match(printed, new RegExp(`^├─ containers\\.v1\\.Containers/Create id=${podSandboxId.slice(0, 12)} `, "m"));
    assert.match(printed, /^ContainerStatus {2}containerId=no-such {2}NOT_FOUND/m);
    const usage = spawnSync(CRIB, ["trace"], { encoding: "utf8" });
    assert.deepEqual([usage.status, usage.stdout], [2, ""]);
    assert.match(usage.stderr, /usage: crib trace FILE/);
  });
});

describe("trace file off (the default)", () => {
  it("records no request fields: the debug log's calls carry ids only", async () => {
    const t = await startTestCrib();
    try {
      await t.client.runtime.version({});
      assert.equal(t.crib.deps.containerd.recorder, undefined);
      const calls = t.rpcLogs("Version")[0]!.containerd!;
      assert.equal(calls[0]!.method, "version.v1.Version/Version");
      assert.equal(calls[0]!.fields, undefined);
      assert.equal(calls[0]!.startedNs, undefined);
    } finally {
      await t.stop();
    }
  });
});
