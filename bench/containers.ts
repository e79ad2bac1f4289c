// bench/containers: CreateContainer → StartContainer → StopContainer → RemoveContainer
// latency (p50/p99) over 50 containers and ExecSync latency (each after LIFECYCLE_WARMUP
// unmeasured ones), and ListContainers /
// ContainerStatus latency with 500 containers, crib vs containerd's built-in CRI, the two
// taking turns step by step (bench/lib.ts alternate).
import { loadHarness } from "../test/harness/env.js";
import { alternate, benchPodConfig, LIFECYCLE_WARMUP, percentile, sample, type Row, type Target, type BenchPodConfig } from "./lib.js";

const LIFECYCLE_CONTAINERS = Math.max(1, Math.round(50 * (Number(process.env["BENCH_SCALE"] ?? "1") || 1)));
const LISTED_CONTAINERS = Math.max(1, Math.round(500 * (Number(process.env["BENCH_SCALE"] ?? "1") || 1)));
const SAMPLES = 50;

interface Pod {
  id: string;
  config: BenchPodConfig;
}


async function runPod(t: Target, name: string): Promise<Pod> {
  const config = benchPodConfig(t.name, name, "host");
  const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
  return { id: podSandboxId, config };
}

function containerConfig(image: string, name: string, command: string[]) {
  return { metadata: { name, attempt: 0 }, image: { image }, command, logPath: `${name}.log` };
}

/** A process that exits on SIGTERM, so StopContainer measures the graceful path. */
const GRACEFUL = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"];

type Life = { create: number[]; start: number[]; stop: number[]; remove: number[] };

/** Each target's pods, removed after `fn` whatever happens. */
async function withPods<R>(targets: Target[], name: string, fn: (pods: Record<string, Pod>) => Promise<R>): Promise<R> {
  const pods: Record<string, Pod> = {};
  try {
    for (const t of targets) pods[t.name] = await runPod(t, name);
    return await fn(pods);
  } finally {
    for (const t of targets) if (pods[t.name]) await t.client.runtime.removePodSandbox({ podSandboxId: pods[t.name]!.id }).catch(() => {});
  }
}

/** Container i's create, start, stop and remove on one target; the targets take turns container by container. */
async function lifecycle(targets: Target[], image: string): Promise<Record<string, Life>> {
  const out: Record<string, Life> = Object.fromEntries(targets.map((t) => [t.name, { create: [], start: [], stop: [], remove: [] }]));
  await withPods(targets, "life", (pods) =>
    alternate(targets, LIFECYCLE_WARMUP + LIFECYCLE_CONTAINERS, async (t, i) => {
      const o: Life = i < LIFECYCLE_WARMUP ? { create: [], start: [], stop: [], remove: [] } : out[t.name]!;
      const pod = pods[t.name]!;
      let id = "";
      const config = containerConfig(image, `life-${i}`, GRACEFUL);
      o.create.push(...(await sample(1, async () => (id = (await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config })).containerId))));
      o.start.push(...(await sample(1, () => t.client.runtime.startContainer({ containerId: id }))));
      await new Promise((r) => setTimeout(r, 100)); // the shell installs its trap
      o.stop.push(...(await sample(1, () => t.client.runtime.stopContainer({ containerId: id, timeout: 10n }))));
      o.remove.push(...(await sample(1, () => t.client.runtime.removeContainer({ containerId: id }))));
    }),
  );
  return out;
}

async function exec(targets: Target[], image: string): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  await withPods(targets, "exec", async (pods) => {
    const ids: Record<string, string> = {};
    for (const t of targets) {
      const pod = pods[t.name]!;
      const { containerId } = await t.client.runtime.createContainer({ podSandboxId: pod.id, config: containerConfig(image, "exec", ["sleep", "3600"]), sandboxConfig: pod.config });
      await t.client.runtime.startContainer({ containerId });
      ids[t.name] = containerId;
    }
    await alternate(targets, LIFECYCLE_WARMUP + SAMPLES, async (t, i) => {
      const latency = await sample(1, () => t.client.runtime.execSync({ containerId: ids[t.name]!, cmd: ["true"], timeout: 10n }));
      if (i >= LIFECYCLE_WARMUP) out[t.name]!.push(...latency);
    });
  });
  return out;
}

async function listing(targets: Target[], image: string): Promise<Record<string, { list: number[]; status: number[] }>> {
  const out: Record<string, { list: number[]; status: number[] }> = Object.fromEntries(targets.map((t) => [t.name, { list: [], status: [] }]));
  await withPods(targets, "many", async (pods) => {
    const ids: Record<string, string[]> = {};
    for (const t of targets) {
      const pod = pods[t.name]!;
      ids[t.name] = [];
      for (let i = 0; i < LISTED_CONTAINERS; i++) {
        const config = containerConfig(image, `many-${i}`, ["true"]);
        ids[t.name]!.push((await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config })).containerId);
      }
    }
    await alternate(targets, SAMPLES, async (t) => {
      out[t.name]!.list.push(...(await sample(1, () => t.client.runtime.listContainers({}))));
    });
    await alternate(targets, SAMPLES, async (t, i) => {
      const mine = ids[t.name]!;
      out[t.name]!.status.push(...(await sample(1, () => t.client.runtime.containerStatus({ containerId: mine[(i * 7) % mine.length]!, verbose: false }))));
    });
  });
  return out;
}

export async function benchContainers(targets: Target[]): Promise<Row[]> {
  const image = loadHarness().images.busybox;
  for (const t of targets) await t.client.image.pullImage({ image: { image } });
  const life = await lifecycle(targets, image);
  const execs = await exec(targets, image);
  const many = await listing(targets, image);
  const row = (metric: string, pick: (name: string) => number): Row => ({
    metric,
    unit: "ms",
    better: "lower",
    values: { crib: pick("crib"), "containerd-cri": pick("containerd-cri") },
  });
  const ops = ["create", "start", "stop", "remove"] as const;
  const names = { create: "CreateContainer", start: "StartContainer", stop: "StopContainer", remove: "RemoveContainer" };
  return [
    ...ops.flatMap((op) => [
      row(`${names[op]} p50 (${LIFECYCLE_CONTAINERS} containers)`, (n) => percentile(life[n]![op], 50)),
      row(`${names[op]} p99`, (n) => percentile(life[n]![op], 99)),
    ]),
    row(`ExecSync p50 (${SAMPLES} calls)`, (n) => percentile(execs[n]!, 50)),
    row(`ExecSync p99`, (n) => percentile(execs[n]!, 99)),
    row(`ListContainers p50 (${LISTED_CONTAINERS} containers)`, (n) => percentile(many[n]!.list, 50)),
    row(`ListContainers p99 (${LISTED_CONTAINERS} containers)`, (n) => percentile(many[n]!.list, 99)),
    row(`ContainerStatus p50 (${LISTED_CONTAINERS} containers)`, (n) => percentile(many[n]!.status, 50)),
    row(`ContainerStatus p99 (${LISTED_CONTAINERS} containers)`, (n) => percentile(many[n]!.status, 99)),
  ];
}
