// bench/containers: CreateContainer → StartContainer → StopContainer → RemoveContainer
// latency (p50/p99) over 50 containers, ExecSync latency, and ListContainers /
// ContainerStatus latency with 500 containers, crib vs containerd's built-in CRI.
import { loadHarness } from "../test/harness/env.js";
import { benchPodConfig, percentile, sample, type Row, type Target, type BenchPodConfig } from "./lib.js";

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

async function lifecycle(t: Target, image: string) {
  const pod = await runPod(t, "life");
  const out = { create: [] as number[], start: [] as number[], stop: [] as number[], remove: [] as number[] };
  try {
    for (let i = 0; i < LIFECYCLE_CONTAINERS; i++) {
      let id = "";
      const config = containerConfig(image, `life-${i}`, GRACEFUL);
      out.create.push(...(await sample(1, async () => (id = (await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config })).containerId))));
      out.start.push(...(await sample(1, () => t.client.runtime.startContainer({ containerId: id }))));
      await new Promise((r) => setTimeout(r, 100)); // the shell installs its trap
      out.stop.push(...(await sample(1, () => t.client.runtime.stopContainer({ containerId: id, timeout: 10n }))));
      out.remove.push(...(await sample(1, () => t.client.runtime.removeContainer({ containerId: id }))));
    }
  } finally {
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id }).catch(() => {});
  }
  return out;
}

async function exec(t: Target, image: string): Promise<number[]> {
  const pod = await runPod(t, "exec");
  try {
    const { containerId } = await t.client.runtime.createContainer({ podSandboxId: pod.id, config: containerConfig(image, "exec", ["sleep", "3600"]), sandboxConfig: pod.config });
    await t.client.runtime.startContainer({ containerId });
    return await sample(SAMPLES, () => t.client.runtime.execSync({ containerId, cmd: ["true"], timeout: 10n }));
  } finally {
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id }).catch(() => {});
  }
}

async function listing(t: Target, image: string): Promise<{ list: number[]; status: number[] }> {
  const pod = await runPod(t, "many");
  try {
    const ids: string[] = [];
    for (let i = 0; i < LISTED_CONTAINERS; i++) {
      const config = containerConfig(image, `many-${i}`, ["true"]);
      ids.push((await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config })).containerId);
    }
    const list = await sample(SAMPLES, () => t.client.runtime.listContainers({}));
    const status = await sample(SAMPLES, (i) => t.client.runtime.containerStatus({ containerId: ids[(i * 7) % ids.length]!, verbose: false }));
    return { list, status };
  } finally {
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id }).catch(() => {});
  }
}

export async function benchContainers(targets: Target[]): Promise<Row[]> {
  const image = loadHarness().images.busybox;
  const life: Record<string, Awaited<ReturnType<typeof lifecycle>>> = {};
  const execs: Record<string, number[]> = {};
  const many: Record<string, Awaited<ReturnType<typeof listing>>> = {};
  for (const t of targets) {
    await t.client.image.pullImage({ image: { image } });
    life[t.name] = await lifecycle(t, image);
    execs[t.name] = await exec(t, image);
    many[t.name] = await listing(t, image);
  }
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
