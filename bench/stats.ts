// bench/stats: ListContainerStats and ListPodSandboxStats latency (p50/p99) with 100
// running containers in 10 pods, crib vs containerd's built-in CRI. The targets run one
// after the other, so only one set of 100 shims is alive at a time.
import { loadHarness } from "../test/harness/env.js";
import { percentile, sample, type Row, type Target } from "./lib.js";

const PODS = 10;
const CONTAINERS_PER_POD = 10;
const SAMPLES = 30;

function podConfig(target: string, i: number) {
  return {
    metadata: { name: `stats-${i}`, uid: `${target}-stats-${i}-${process.pid}`, namespace: "bench", attempt: 0 },
    hostname: `stats-${i}`,
    // A cgroup parent of its own, as the kubelet gives every pod: pod stats read it.
    linux: { cgroupParent: `/crib-bench-stats/${target}-pod-${i}` },
  };
}

async function measure(t: Target, image: string): Promise<{ containers: number[]; pods: number[] }> {
  const pods: string[] = [];
  try {
    for (let p = 0; p < PODS; p++) {
      const config = podConfig(t.name, p);
      const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
      pods.push(podSandboxId);
      for (let c = 0; c < CONTAINERS_PER_POD; c++) {
        const cfg = { metadata: { name: `c-${c}`, attempt: 0 }, image: { image }, command: ["sleep", "3600"] };
        const { containerId } = await t.client.runtime.createContainer({ podSandboxId, config: cfg, sandboxConfig: config });
        await t.client.runtime.startContainer({ containerId });
      }
    }
    // The first call measures every writable layer (both runtimes keep it afterwards).
    await t.client.runtime.listContainerStats({});
    await t.client.runtime.listPodSandboxStats({});
    const containers = await sample(SAMPLES, () => t.client.runtime.listContainerStats({}));
    const podStats = await sample(SAMPLES, () => t.client.runtime.listPodSandboxStats({}));
    return { containers, pods: podStats };
  } finally {
    for (const id of pods) await t.client.runtime.removePodSandbox({ podSandboxId: id }).catch(() => {});
  }
}

export async function benchStats(targets: Target[]): Promise<Row[]> {
  const image = loadHarness().images.busybox;
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const t of targets) {
    await t.client.image.pullImage({ image: { image } });
    results[t.name] = await measure(t, image);
  }
  const n = PODS * CONTAINERS_PER_POD;
  const row = (metric: string, pick: (name: string) => number): Row => ({
    metric,
    unit: "ms",
    better: "lower",
    values: { crib: pick("crib"), "containerd-cri": pick("containerd-cri") },
  });
  return [
    row(`ListContainerStats p50 (${n} running containers)`, (t) => percentile(results[t]!.containers, 50)),
    row(`ListContainerStats p99 (${n} running containers)`, (t) => percentile(results[t]!.containers, 99)),
    row(`ListPodSandboxStats p50 (${PODS} pods, ${n} containers)`, (t) => percentile(results[t]!.pods, 50)),
    row(`ListPodSandboxStats p99 (${PODS} pods, ${n} containers)`, (t) => percentile(results[t]!.pods, 99)),
  ];
}
