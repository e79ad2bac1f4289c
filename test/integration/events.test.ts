// GetContainerEvents against the real containerd: the events of a full pod and container
// lifecycle arrive in order at two subscribers at once, each carrying the pod's status and
// its containers' statuses; a status RPC made on receipt already shows the new state; a
// container that exits by itself is reported; a hung subscriber holds up nobody.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  ContainerEventType,
  ContainerState,
  PodSandboxState,
  type ContainerConfigSchema,
  type ContainerEventResponse,
  type PodSandboxConfigSchema,
} from "../../src/gen/runtime/v1/api_pb.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;
type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a status RPC said when the event arrived. */
interface Seen {
  event: ContainerEventResponse;
  /** ContainerStatus/PodSandboxStatus state of event.containerId on receipt, "gone" if NOT_FOUND. */
  stateOnReceipt: string;
}

describe("GetContainerEvents", () => {
  let t: TestCrib;
  let seq = 0;

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    await t.client.image.pullImage({ image: { image: t.harness.images.busybox } });
  });
  after(async () => {
    await t.removeAllPods();
    await t?.stop();
  });

  function podConfig(): PodInit {
    seq++;
    return {
      metadata: { name: `ev-pod-${seq}`, uid: `ev-uid-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: `ev-pod-${seq}`,
      linux: { cgroupParent: `/crib-events-test/pod-${seq}` },
    };
  }
  const containerConfig = (name: string, command: string[]): ContainerInit => ({ metadata: { name, attempt: 0 }, image: { image: t.harness.images.busybox }, command });

  async function stateOf(id: string, isPod: boolean): Promise<string> {
    try {
      if (isPod) return PodSandboxState[(await t.client.runtime.podSandboxStatus({ podSandboxId: id })).status!.state];
      return ContainerState[(await t.client.runtime.containerStatus({ containerId: id })).status!.state];
    } catch {
      return "gone";
    }
  }

  /** A subscriber that records every event and the state a status RPC showed on receipt. */
  function subscribe(): { seen: Seen[]; stop: () => Promise<void> } {
    const abort = new AbortController();
    const seen: Seen[] = [];
    const done = (async () => {
      for await (const event of t.client.runtime.getContainerEvents({}, { timeoutMs: 0, signal: abort.signal })) {
        const isPod = event.podSandboxStatus?.id === event.containerId;
        seen.push({ event, stateOnReceipt: await stateOf(event.containerId, isPod) });
      }
    })().catch((e: unknown) => {
      if (!abort.signal.aborted) throw e;
    });
    return {
      seen,
      stop: async () => {
        abort.abort();
        await done;
      },
    };
  }

  async function waitEvents(sub: { seen: Seen[] }, ids: string[], n: number): Promise<Seen[]> {
    const mine = () => sub.seen.filter((s) => ids.includes(s.event.containerId));
    for (let i = 0; i < 300 && mine().length < n; i++) await sleep(50);
    return mine();
  }

  const summary = (seen: Seen[], podId: string, ctrId: string) =>
    seen.map((s) => `${s.event.containerId === podId ? "pod" : s.event.containerId === ctrId ? "ctr" : "?"} ${ContainerEventType[s.event.containerEventType]}`);

  it("a pod and container lifecycle, in order, at two subscribers, with statuses filled in", async () => {
    const subs = [subscribe(), subscribe()];
    await sleep(200); // both streams are open in crib before the first event
    const pod = podConfig();
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config: pod });
    const { containerId } = await t.client.runtime.createContainer({ podSandboxId, config: containerConfig("sleeper", ["sleep", "300"]), sandboxConfig: pod });
    await t.client.runtime.startContainer({ containerId });
    await t.client.runtime.stopContainer({ containerId, timeout: 1n });
    await t.client.runtime.removeContainer({ containerId });
    await t.client.runtime.stopPodSandbox({ podSandboxId });
    await t.client.runtime.removePodSandbox({ podSandboxId });

    const want = ["pod CONTAINER_CREATED_EVENT", "pod CONTAINER_STARTED_EVENT", "ctr CONTAINER_CREATED_EVENT", "ctr CONTAINER_STARTED_EVENT", "ctr CONTAINER_STOPPED_EVENT", "ctr CONTAINER_DELETED_EVENT", "pod CONTAINER_STOPPED_EVENT", "pod CONTAINER_DELETED_EVENT"];
    for (const sub of subs) {
      const seen = await waitEvents(sub, [podSandboxId, containerId], want.length);
      assert.deepEqual(summary(seen, podSandboxId, containerId), want);
      const ev = seen.map((s) => s.event);
      // Every event names the pod by its metadata, which the kubelet keys its cache on.
      for (const e of ev) {
        assert.equal(e.podSandboxStatus?.metadata?.uid, pod.metadata!.uid, `${ContainerEventType[e.containerEventType]} carries the pod's status`);
        assert.ok(e.createdAt > 0n);
      }
      assert.equal(ev[1]!.podSandboxStatus?.state, PodSandboxState.SANDBOX_READY);
      assert.deepEqual(ev[2]!.containersStatuses.map((c) => [c.id, ContainerState[c.state]]), [[containerId, "CONTAINER_CREATED"]]);
      assert.deepEqual(ev[3]!.containersStatuses.map((c) => [c.id, ContainerState[c.state]]), [[containerId, "CONTAINER_RUNNING"]]);
      assert.deepEqual(ev[4]!.containersStatuses.map((c) => [c.id, ContainerState[c.state]]), [[containerId, "CONTAINER_EXITED"]]);
      assert.equal(ev[4]!.containersStatuses[0]!.exitCode, 143, "sleep died of SIGTERM");
      assert.deepEqual(ev[5]!.containersStatuses, [], "a deleted container is in no status");
      assert.equal(ev[6]!.podSandboxStatus?.state, PodSandboxState.SANDBOX_NOTREADY);
      assert.equal(ev[7]!.podSandboxStatus?.id, podSandboxId, "the pod's DELETED event still carries its last status");
      // Sent after the change is in the store: a status RPC on receipt shows at least that state.
      const states = seen.map((s) => s.stateOnReceipt);
      assert.ok(["SANDBOX_READY", "SANDBOX_NOTREADY", "gone"].includes(states[0]!));
      assert.ok(["CONTAINER_CREATED", "CONTAINER_RUNNING", "CONTAINER_EXITED", "gone"].includes(states[2]!));
      assert.ok(["CONTAINER_RUNNING", "CONTAINER_EXITED", "gone"].includes(states[3]!));
      assert.ok(["CONTAINER_EXITED", "gone"].includes(states[4]!));
      assert.equal(states[5], "gone");
      assert.ok(["SANDBOX_NOTREADY", "gone"].includes(states[6]!));
      assert.equal(states[7], "gone");
    }
    await Promise.all(subs.map((s) => s.stop()));
  });

  it("a container that exits by itself is reported STOPPED with its exit code", async () => {
    const sub = subscribe();
    await sleep(200);
    const pod = podConfig();
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config: pod });
    const { containerId } = await t.client.runtime.createContainer({ podSandboxId, config: containerConfig("quitter", ["sh", "-c", "exit 3"]), sandboxConfig: pod });
    await t.client.runtime.startContainer({ containerId });
    const seen = await waitEvents(sub, [containerId], 3);
    assert.deepEqual(summary(seen, podSandboxId, containerId), ["ctr CONTAINER_CREATED_EVENT", "ctr CONTAINER_STARTED_EVENT", "ctr CONTAINER_STOPPED_EVENT"]);
    const stopped = seen[2]!.event.containersStatuses.find((c) => c.id === containerId);
    assert.equal(stopped?.state, ContainerState.CONTAINER_EXITED);
    assert.equal(stopped?.exitCode, 3);
    assert.equal(seen[2]!.stateOnReceipt, "CONTAINER_EXITED");
    await sub.stop();
    await t.client.runtime.removePodSandbox({ podSandboxId });
  });

  it("a hung subscriber does not hold up the others", async () => {
    const reader = subscribe();
    // A client process stopped with SIGSTOP: it reads nothing and grants no flow-control window.
    const hung = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../unit/events-stalled-client.ts"), t.config.listen], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve) => hung.stdout.once("data", () => resolve()));
      await sleep(300);
      hung.kill("SIGSTOP");
      const started = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const pod = podConfig();
        const { podSandboxId } = await t.client.runtime.runPodSandbox({ config: pod });
        ids.push(podSandboxId);
        await t.client.runtime.stopPodSandbox({ podSandboxId });
        await t.client.runtime.removePodSandbox({ podSandboxId });
      }
      const seen = await waitEvents(reader, ids, 20);
      assert.equal(seen.length, 20, "the reader got every event of the five pods");
      assert.ok(Date.now() - started < 30_000);
    } finally {
      hung.kill("SIGCONT");
      hung.kill("SIGKILL");
      await reader.stop();
    }
  });
});
