// Containers end to end: crib in-process on the harness's containerd, busybox images from
// the harness registry, real pods. Asserted is what a kubelet sees (status, exit codes,
// the CRI log file) and what the process inside really got (env, user, cgroup limits,
// capabilities), plus that bad requests leave nothing behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { ContainerState, Signal, type ContainerConfig } from "../../src/gen/runtime/v1/api_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ContainerConfigSchema, PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;
type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;

let seq = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The CRI log file's records as "stream tag content", checking every line's format. */
function logRecords(path: string): string[] {
  if (!existsSync(path)) return [];
  const line = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z) (stdout|stderr) ([PF]) (.*)$/;
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const m = line.exec(l);
      assert.ok(m, `not a CRI log line: ${JSON.stringify(l)}`);
      return `${m[3]} ${m[4]} ${m[5]}`;
    });
}

describe("containers", () => {
  let t: TestCrib;
  let logRoot: string;
  let busybox: string;
  let busyboxUser: string;

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    busybox = t.harness.images.busybox;
    busyboxUser = t.harness.images.busyboxUser;
    logRoot = join(t.harness.scratchDir, `${t.config.namespace}-logs`);
    mkdirSync(logRoot, { recursive: true });
    await t.client.image.pullImage({ image: { image: busybox } });
    await t.client.image.pullImage({ image: { image: busyboxUser } });
  });
  after(async () => {
    for (const p of (await t.client.runtime.listPodSandbox({})).items) await t.client.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
    await t.stop();
  });

  function podConfig(extra: Partial<PodInit> = {}): PodInit {
    seq++;
    const logDirectory = join(logRoot, `pod-${seq}`);
    return {
      metadata: { name: `pod-${seq}`, uid: `uid-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: `pod-${seq}`,
      logDirectory,
      linux: { cgroupParent: `/crib-ctr-test/pod-${seq}` },
      ...extra,
    };
  }

  async function runPod(extra: Partial<PodInit> = {}): Promise<{ id: string; config: PodInit }> {
    const config = podConfig(extra);
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
    return { id: podSandboxId, config };
  }

  function containerConfig(name: string, extra: Partial<ContainerInit> = {}): ContainerInit {
    return { metadata: { name, attempt: 0 }, image: { image: busybox }, logPath: `${name}/0.log`, ...extra };
  }

  async function create(pod: { id: string; config: PodInit }, config: ContainerInit): Promise<string> {
    const { containerId } = await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config });
    return containerId;
  }

  async function status(id: string) {
    return (await t.client.runtime.containerStatus({ containerId: id })).status!;
  }

  async function waitExited(id: string, timeoutMs = 20_000) {
    return waitFor(`container ${id} to exit`, async () => {
      const s = await status(id);
      return s.state === ContainerState.CONTAINER_EXITED ? s : undefined;
    }, timeoutMs);
  }

  /** Runs a command to completion and returns its final status and log records. */
  async function runToExit(config: ContainerInit, pod?: { id: string; config: PodInit }) {
    const p = pod ?? (await runPod());
    const id = await create(p, config);
    await t.client.runtime.startContainer({ containerId: id });
    const s = await waitExited(id);
    return { id, status: s, logs: logRecords(s.logPath) };
  }

  it("runs a container: its output lands in the CRI log file and its exit code is reported", async () => {
    const { id, status: s, logs } = await runToExit(
      containerConfig("hello", { command: ["sh", "-c"], args: ["echo hello; echo oops >&2; printf partial; exit 3"] }),
    );
    assert.equal(s.exitCode, 3);
    assert.equal(s.reason, "Error");
    assert.ok(s.startedAt > 0n && s.finishedAt >= s.startedAt, "started and finished times");
    assert.ok(s.logPath.endsWith("hello/0.log"));
    assert.deepEqual(logs.filter((l) => l.startsWith("stdout")), ["stdout F hello", "stdout P partial"]);
    assert.deepEqual(logs.filter((l) => l.startsWith("stderr")), ["stderr F oops"]);
    const list = await t.client.runtime.listContainers({ filter: { id } });
    assert.equal(list.containers.length, 1);
    assert.equal(list.containers[0]!.state, ContainerState.CONTAINER_EXITED);
  });

  it("reports Completed for exit 0 and lists by state, pod and label", async () => {
    const pod = await runPod();
    const done = await runToExit(containerConfig("ok", { command: ["true"], labels: { role: "done" } }), pod);
    assert.equal(done.status.exitCode, 0);
    assert.equal(done.status.reason, "Completed");
    const live = await create(pod, containerConfig("live", { command: ["sleep", "60"], labels: { role: "live" } }));
    await t.client.runtime.startContainer({ containerId: live });
    const byPod = await t.client.runtime.listContainers({ filter: { podSandboxId: pod.id.slice(0, 12) } });
    assert.deepEqual(byPod.containers.map((c) => c.id).sort(), [done.id, live].sort());
    const running = await t.client.runtime.listContainers({ filter: { podSandboxId: pod.id, state: { state: ContainerState.CONTAINER_RUNNING } } });
    assert.deepEqual(running.containers.map((c) => c.id), [live]);
    const labelled = await t.client.runtime.listContainers({ filter: { labelSelector: { role: "done" } } });
    assert.deepEqual(labelled.containers.map((c) => c.id), [done.id]);
    assert.equal(labelled.containers[0]!.labels["io.cri-containerd.kind"], undefined, "CRI labels only");
    await t.client.runtime.stopContainer({ containerId: live, timeout: 0n });
    assert.equal((await status(live)).exitCode, 137);
  });
});
