// cri-api v0.36's newest RPCs against the real containerd: the Stream* list RPCs return
// the List RPCs' items (filters included) in chunks each under the 16 MiB message limit,
// also for a list too large for one message; UpdatePodSandboxResources writes the pod
// cgroup and records the values in the Sandbox Store's updated-resources extension.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  StreamContainersResponseSchema,
  type Container,
  type PodSandboxConfig,
} from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall } from "../client/cri-client.js";
import { detectCgroupMode } from "../../src/common/cgroup-mode.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of stream) out.push(m);
  return out;
}

const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));
const encoded = <D extends DescMessage>(schema: D, m: MessageShape<D>) => toBinary(schema, m).length;

describe("cri-api v0.36", () => {
  let t: TestCrib;
  let busybox: string;
  let logRoot: string;
  let seq = 0;
  const cgroupTop = `crib-v036-${process.pid}`;

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    busybox = t.harness.images.busybox;
    logRoot = join(t.harness.scratchDir, `${t.config.namespace}-logs`);
    mkdirSync(logRoot, { recursive: true });
    await t.client.image.pullImage({ image: { image: busybox } });
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
    for (const c of ["cpu", "memory", "cpuacct", "pids", "blkio", "devices", "freezer", "net_cls", "perf_event", "hugetlb", "cpuset", "net_prio", "rdma", "misc", "systemd", ""]) {
      for (let i = seq; i >= 1; i--) {
        const d = join("/sys/fs/cgroup", c, cgroupTop, `pod-${i}`);
        if (existsSync(d)) rmdirSync(d);
      }
      const top = join("/sys/fs/cgroup", c, cgroupTop);
      if (existsSync(top)) rmdirSync(top);
    }
  });

  // Each test starts from no pods: a failed one must not leave its containers in the next one's lists.
  afterEach(() => t.removeAllPods());

  async function runPod(): Promise<{ id: string; config: PodSandboxConfig }> {
    seq++;
    const config = {
      metadata: { name: `pod-${seq}`, uid: `uid-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: `pod-${seq}`,
      logDirectory: join(logRoot, `pod-${seq}`),
      linux: { cgroupParent: `/${cgroupTop}/pod-${seq}` },
    } as PodSandboxConfig;
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
    return { id: podSandboxId, config };
  }

  async function createContainer(pod: { id: string; config: PodSandboxConfig }, name: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
    const { containerId } = await t.client.runtime.createContainer({
      podSandboxId: pod.id,
      config: { metadata: { name, attempt: 0 }, image: { image: busybox }, logPath: `${name}.log`, command: ["sleep", "3600"], ...extra },
      sandboxConfig: pod.config,
    });
    return containerId;
  }

  it("each Stream RPC returns the List RPC's items, with the same filter", async () => {
    const a = await runPod();
    const b = await runPod();
    const running = await createContainer(a, "running", { labels: { team: "x" } });
    await t.client.runtime.startContainer({ containerId: running });
    await createContainer(a, "created");
    await createContainer(b, "other", { labels: { team: "x" } });

    const streamed = async <T>(s: AsyncIterable<T>, pick: (m: T) => { id: string }[]) => byId((await collect(s)).flatMap(pick));
    // Pods, containers, images: whole lists and filtered ones.
    assert.deepEqual(await streamed(t.client.runtime.streamPodSandboxes({}), (m) => m.podSandboxes), byId((await t.client.runtime.listPodSandbox({})).items));
    const podFilter = { filter: { id: b.id } };
    const pods = await streamed(t.client.runtime.streamPodSandboxes(podFilter), (m) => m.podSandboxes);
    assert.deepEqual(pods.map((p) => p.id), [b.id]);
    for (const filter of [undefined, { podSandboxId: a.id }, { labelSelector: { team: "x" } }, { state: { state: 1 } }]) {
      const list = byId((await t.client.runtime.listContainers({ filter })).containers);
      assert.ok(list.length > 0, `list with ${JSON.stringify(filter)} is not empty`);
      assert.deepEqual(await streamed(t.client.runtime.streamContainers({ filter }), (m) => m.containers), list);
    }
    assert.deepEqual(await streamed(t.client.image.streamImages({}), (m) => m.images), byId((await t.client.image.listImages({})).images));

    // Stats are sampled per call: the same items (ids) and shape, not the same numbers.
    const statIds = (xs: { attributes?: { id: string } }[]) => xs.map((s) => s.attributes!.id).sort();
    const cs = (await collect(t.client.runtime.streamContainerStats({}))).flatMap((m) => m.containerStats);
    assert.deepEqual(statIds(cs), statIds((await t.client.runtime.listContainerStats({})).stats));
    const runningStats = cs.find((s) => s.attributes?.id === running);
    assert.ok(runningStats?.cpu && runningStats.memory, "the running container's stats carry cpu and memory");
    const ps = (await collect(t.client.runtime.streamPodSandboxStats({ filter: { id: a.id } }))).flatMap((m) => m.podSandboxStats);
    assert.deepEqual(statIds(ps), [a.id]);
    const pm = (await collect(t.client.runtime.streamPodSandboxMetrics({}))).flatMap((m) => m.podSandboxMetrics);
    const lm = (await t.client.runtime.listPodSandboxMetrics({})).podMetrics;
    assert.deepEqual(pm.map((m) => m.podSandboxId).sort(), lm.map((m) => m.podSandboxId).sort());

    // An empty result ends the stream without a message.
    assert.deepEqual(await collect(t.client.runtime.streamContainers({ filter: { id: "no-such" } })), []);
    await t.removeAllPods();
  });

  it("a container list beyond the 16 MiB message limit: List fails, StreamContainers returns every item in chunks under the limit", async () => {
    const pod = await runPod();
    // 72 containers × 256 KiB of annotations ≈ 18 MiB: more than one message may carry.
    const big = "a".repeat(256 << 10);
    const ids: string[] = [];
    for (let i = 0; i < 72; i++) ids.push(await createContainer(pod, `big-${i}`, { labels: { half: i % 2 ? "odd" : "even" }, annotations: { big } }));

    assert.equal(await codeOfCall(t.client.runtime.listContainers({})), Code.RESOURCE_EXHAUSTED, "the unary List no longer fits one message");

    const chunks = await collect(t.client.runtime.streamContainers({}));
    assert.ok(chunks.length >= 2, `${chunks.length} chunks, expected at least 2`);
    for (const ch of chunks) {
      assert.ok(ch.containers.length >= 1, "every message carries at least one item");
      assert.ok(encoded(StreamContainersResponseSchema, ch) < 16 << 20, "each chunk is under 16 MiB");
    }
    const all: Container[] = chunks.flatMap((c) => c.containers);
    assert.deepEqual(all.map((c) => c.id).sort(), [...ids].sort(), "every container exactly once");
    assert.ok(all.every((c) => c.annotations["big"] === big), "every item keeps its annotations");

    // Where the List fits (half the containers), the streamed items equal it.
    for (const half of ["odd", "even"]) {
      const filter = { labelSelector: { half } };
      const list = byId((await t.client.runtime.listContainers({ filter })).containers);
      assert.equal(list.length, 36);
      const streamed = byId((await collect(t.client.runtime.streamContainers({ filter }))).flatMap((m) => m.containers));
      assert.deepEqual(streamed, list);
    }
    await t.removeAllPods();
  });

  it("UpdatePodSandboxResources writes the pod cgroup and records the values like containerd", async () => {
    const pod = await runPod();
    const resources = { cpuShares: 512n, cpuQuota: 50_000n, cpuPeriod: 100_000n, memoryLimitInBytes: 256n << 20n };
    const overhead = { cpuShares: 10n, memoryLimitInBytes: 16n << 20n };
    await t.client.runtime.updatePodSandboxResources({ podSandboxId: pod.id, resources, overhead });

    const mode = await detectCgroupMode();
    const rel = pod.config.linux!.cgroupParent.replace(/^\//, "");
    const read = (ctrl: string, file: string) => readFileSync(join("/sys/fs/cgroup", ctrl, rel, file), "utf8").trim();
    if (mode === "v1") {
      assert.equal(read("cpu", "cpu.shares"), "522");
      assert.equal(read("cpu", "cpu.cfs_quota_us"), "50000");
      assert.equal(read("cpu", "cpu.cfs_period_us"), "100000");
      assert.equal(read("memory", "memory.limit_in_bytes"), String(272n << 20n));
    } else {
      assert.equal(read("", "cpu.max"), "50000 100000");
      assert.equal(read("", "memory.max"), String(272n << 20n));
    }

    const got = await t.containerd.sandboxStore.get({ sandboxId: pod.id });
    const ext = got.sandbox!.extensions["updated-resources"];
    assert.equal(ext?.typeUrl, "io.containerd.cri.v1/UpdatedResources");
    assert.deepEqual(JSON.parse(Buffer.from(ext!.value).toString()), {
      Overhead: { cpu_shares: 10, memory_limit_in_bytes: 16 << 20 },
      Resources: { cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512, memory_limit_in_bytes: 256 << 20 },
    });
    // The pod's own metadata extension is kept.
    assert.ok(got.sandbox!.extensions["metadata"] !== undefined, "metadata extension kept");

    assert.equal(await codeOfCall(t.client.runtime.updatePodSandboxResources({ podSandboxId: "no-such-pod" })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.client.runtime.updatePodSandboxResources({ podSandboxId: pod.id, resources: { cpuShares: -1n } })), Code.INVALID_ARGUMENT);
    await t.removeAllPods();
  });
});
