// Container and pod stats against the real containerd and cgroups: a CPU burner shows
// rising usage and a non-zero usage_nano_cores, a container holding 50 MiB shows a working
// set near that, a file written to the rootfs shows in the writable layer, pod network
// counters grow with traffic between two pods, and the cAdvisor-style metrics carry the
// same numbers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { status as Code } from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ContainerState, type ContainerConfigSchema, type ContainerStats, type PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;
type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;
const MiB = 1n << 20n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("stats", () => {
  let t: TestCrib;
  let seq = 0;
  const pods: { id: string; config: PodInit }[] = [];

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    await t.client.image.pullImage({ image: { image: t.harness.images.busybox } });
  });
  after(async () => {
    await t.removeAllPods();
    await t?.stop();
  });

  async function runPod(labels: Record<string, string> = {}): Promise<{ id: string; config: PodInit }> {
    seq++;
    const config: PodInit = {
      metadata: { name: `stats-pod-${seq}`, uid: `stats-uid-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: `stats-pod-${seq}`,
      labels,
      linux: { cgroupParent: `/crib-stats-test/pod-${seq}-${process.pid}` },
    };
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
    const pod = { id: podSandboxId, config };
    pods.push(pod);
    return pod;
  }

  async function run(pod: { id: string; config: PodInit }, name: string, script: string, labels: Record<string, string> = {}): Promise<string> {
    const config: ContainerInit = { metadata: { name, attempt: 0 }, image: { image: t.harness.images.busybox }, command: ["sh", "-c", script], labels };
    const { containerId } = await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config });
    await t.client.runtime.startContainer({ containerId });
    return containerId;
  }

  async function statsOf(id: string): Promise<ContainerStats> {
    const { stats } = await t.client.runtime.containerStats({ containerId: id });
    assert.ok(stats);
    return stats;
  }

  /** Polls until pick(stats) is defined. */
  async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(250);
    }
  }

  it("a CPU burner: usage rises and usage_nano_cores is non-zero", async () => {
    const pod = await runPod({ suite: "stats" });
    const burner = await run(pod, "burner", "while :; do :; done", { role: "burner" });
    const first = (await statsOf(burner)).cpu;
    assert.ok(first?.usageCoreNanoSeconds, "cpu usage reported");
    assert.ok(first.timestamp > 0n);
    await sleep(1500);
    const second = (await t.client.runtime.listContainerStats({ filter: { id: burner.slice(0, 12) } })).stats;
    assert.equal(second.length, 1, "the id filter takes a prefix");
    const cpu = second[0]!.cpu!;
    assert.ok(cpu.usageCoreNanoSeconds!.value > first.usageCoreNanoSeconds.value + 500_000_000n, "over half a second of CPU in 1.5s");
    assert.ok(cpu.timestamp > first.timestamp);
    const cores = cpu.usageNanoCores?.value ?? 0n;
    assert.ok(cores > 300_000_000n && cores < 2_100_000_000n, `usage_nano_cores ${cores} is about one core`);
    assert.equal(second[0]!.attributes?.id, burner);
    assert.equal(second[0]!.attributes?.metadata?.name, "burner");
    assert.equal(second[0]!.attributes?.labels["role"], "burner");
  });

  it("a container holding 50 MiB has a working set near that; a file in its rootfs shows in the writable layer", async () => {
    const pod = await runPod();
    // tmpfs pages are charged to the writer's memory cgroup and never count as inactive file.
    const holder = await run(pod, "holder", "dd if=/dev/zero of=/dev/shm/fill bs=1048576 count=50 2>/dev/null; dd if=/dev/zero of=/layer.bin bs=1048576 count=8 2>/dev/null; sync; echo done > /ready; sleep 300");
    const mem = await waitFor("50 MiB held", async () => {
      const s = await statsOf(holder);
      return s.memory && s.memory.workingSetBytes!.value >= 50n * MiB ? s.memory : undefined;
    });
    const ws = mem.workingSetBytes!.value;
    assert.ok(ws < 80n * MiB, `working set ${ws / MiB} MiB is near 50`);
    assert.ok(mem.usageBytes!.value >= ws, "usage includes the working set");
    assert.ok(mem.timestamp > 0n);
    assert.ok(mem.pageFaults!.value > 0n);
    const layer = await waitFor("the 8 MiB file in the writable layer", async () => {
      const s = await statsOf(holder);
      return s.writableLayer && s.writableLayer.usedBytes!.value >= 8n * MiB ? s.writableLayer : undefined;
    }, 30_000);
    assert.ok(layer.fsId?.mountpoint.includes("overlayfs"), `fs id ${layer.fsId?.mountpoint}`);
    assert.ok(layer.inodesUsed!.value > 0n);
    assert.ok(layer.timestamp > 0n);
  });

  it("pod stats: the pod cgroup, process count, network and each container", async () => {
    const a = await runPod({ side: "a" });
    const b = await runPod({ side: "b" });
    await run(a, "server", "sleep 300");
    const ipA = (await t.client.runtime.podSandboxStatus({ podSandboxId: a.id })).status!.network!.ip;
    assert.ok(ipA, "pod A has an address");

    const podStats = async (id: string) => (await t.client.runtime.podSandboxStats({ podSandboxId: id })).stats!;
    const before = await podStats(a.id);
    const rx0 = before.linux!.network!.defaultInterface!.rxBytes!.value;
    assert.equal(before.linux!.network!.defaultInterface!.name, "eth0");
    assert.equal(before.attributes?.id, a.id);
    assert.equal(before.attributes?.labels["side"], "a");
    assert.ok(before.linux!.cpu?.usageCoreNanoSeconds, "pod cgroup cpu");
    assert.ok(before.linux!.memory?.workingSetBytes, "pod cgroup memory");
    assert.equal(before.linux!.process?.processCount?.value, 1n, "one sleep in the pod's containers");
    assert.deepEqual(before.linux!.containers.map((c) => c.attributes?.metadata?.name), ["server"]);

    await run(b, "pinger", `ping -c 30 -i 0.05 -s 1400 ${ipA} > /dev/null; sleep 300`);
    const after = await waitFor("30 pings of 1400 bytes", async () => {
      const s = await podStats(a.id);
      return s.linux!.network!.defaultInterface!.rxBytes!.value - rx0 >= 30n * 1400n ? s : undefined;
    });
    assert.ok(after.linux!.network!.defaultInterface!.txBytes!.value > before.linux!.network!.defaultInterface!.txBytes!.value, "the replies went out");

    const list = (await t.client.runtime.listPodSandboxStats({ filter: { labelSelector: { side: "b" } } })).stats;
    assert.deepEqual(list.map((s) => s.attributes?.id), [b.id]);
    assert.deepEqual(list[0]!.linux!.containers.map((c) => c.attributes?.metadata?.name), ["pinger"]);
    const all = (await t.client.runtime.listPodSandboxStats({})).stats.map((s) => s.attributes?.id);
    assert.ok(all.includes(a.id) && all.includes(b.id));
  });

  it("an exited container has its layer but no cpu or memory; filters by pod and label; errors", async () => {
    const pod = await runPod();
    const done = await run(pod, "done", "true", { role: "done" });
    await waitFor("exit", async () => {
      const s = (await t.client.runtime.containerStatus({ containerId: done })).status!;
      return s.state === ContainerState.CONTAINER_EXITED ? s : undefined;
    });
    const s = await statsOf(done);
    assert.equal(s.cpu, undefined);
    assert.equal(s.memory, undefined);
    assert.ok(s.writableLayer?.usedBytes);
    const byPod = (await t.client.runtime.listContainerStats({ filter: { podSandboxId: pod.id.slice(0, 10) } })).stats;
    assert.deepEqual(byPod.map((x) => x.attributes?.id), [done]);
    const byLabel = (await t.client.runtime.listContainerStats({ filter: { labelSelector: { role: "done" } } })).stats;
    assert.deepEqual(byLabel.map((x) => x.attributes?.id), [done]);
    assert.equal((await t.client.runtime.listContainerStats({ filter: { id: "no-such-id" } })).stats.length, 0);
    assert.equal(await codeOfCall(t.client.runtime.containerStats({ containerId: "no-such-id" })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.client.runtime.podSandboxStats({ podSandboxId: "no-such-id" })), Code.NOT_FOUND);
    await t.client.runtime.stopPodSandbox({ podSandboxId: pod.id });
    assert.equal(await codeOfCall(t.client.runtime.podSandboxStats({ podSandboxId: pod.id })), Code.UNAVAILABLE, "a stopped pod has no stats");
    const listed = (await t.client.runtime.listPodSandboxStats({})).stats.map((x) => x.attributes?.id);
    assert.ok(!listed.includes(pod.id), "a stopped pod is not listed");
  });

  it("cAdvisor-style metrics: descriptors, and values whose labels fit them", async () => {
    const { descriptors } = await t.client.runtime.listMetricDescriptors({});
    const keys = new Map(descriptors.map((d) => [d.name, d.labelKeys]));
    assert.ok(keys.has("container_cpu_usage_seconds_total"));
    assert.ok(keys.has("container_network_receive_bytes_total"));
    const { podMetrics } = await t.client.runtime.listPodSandboxMetrics({});
    assert.ok(podMetrics.length >= 1);
    let cpuSeen = false;
    let netSeen = false;
    for (const p of podMetrics) {
      for (const m of [...p.metrics, ...p.containerMetrics.flatMap((c) => c.metrics)]) {
        const k = keys.get(m.name);
        assert.ok(k, `${m.name} is described`);
        assert.equal(m.labelValues.length, k.length, `${m.name} labels ${m.labelValues.join(",")} fit ${k.join(",")}`);
        assert.ok(m.timestamp > 0n);
      }
      netSeen ||= p.metrics.some((m) => m.name === "container_network_receive_bytes_total" && m.labelValues.at(-1) === "eth0");
      for (const c of p.containerMetrics) {
        const usage = c.metrics.find((m) => m.name === "container_cpu_usage_seconds_total");
        if (usage && c.metrics.some((m) => m.name === "container_memory_working_set_bytes")) cpuSeen = true;
        assert.equal(c.metrics.find((m) => m.name === "container_last_seen")?.labelValues[1], c.containerId, "id label is the container id");
      }
    }
    assert.ok(cpuSeen, "running containers report cpu and memory");
    assert.ok(netSeen, "pods report their eth0");
  });
});
