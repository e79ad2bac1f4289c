// bench/pods: RunPodSandbox → StopPodSandbox → RemovePodSandbox latency (p50/p99) over 50
// pods, and ListPodSandbox latency with 200 pods, crib vs containerd's built-in CRI.
import { percentile, sample, type Row, type Target } from "./lib.js";

const LIFECYCLE_PODS = Math.max(1, Math.round(50 * (Number(process.env["BENCH_SCALE"] ?? "1") || 1)));
const LISTED_PODS = Math.max(1, Math.round(200 * (Number(process.env["BENCH_SCALE"] ?? "1") || 1)));
const LIST_SAMPLES = 50;

function podConfig(prefix: string, i: number) {
  return {
    metadata: { name: `${prefix}-${i}`, uid: `${prefix}-uid-${i}`, namespace: "bench", attempt: 0 },
    hostname: `${prefix}-${i}`,
    labels: { bench: prefix },
    linux: {},
  };
}

async function lifecycle(t: Target): Promise<{ run: number[]; stop: number[]; remove: number[] }> {
  const run: number[] = [];
  const stop: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < LIFECYCLE_PODS; i++) {
    let id = "";
    run.push(...(await sample(1, async () => (id = (await t.client.runtime.runPodSandbox({ config: podConfig("life", i) })).podSandboxId))));
    stop.push(...(await sample(1, () => t.client.runtime.stopPodSandbox({ podSandboxId: id }))));
    remove.push(...(await sample(1, () => t.client.runtime.removePodSandbox({ podSandboxId: id }))));
  }
  return { run, stop, remove };
}

async function listing(t: Target): Promise<number[]> {
  const ids: string[] = [];
  // Host-network pods: 200 of them need no CNI addresses (the bench subnet is a /24).
  for (let i = 0; i < LISTED_PODS; i++) {
    const cfg = { ...podConfig("list", i), hostname: "", linux: { securityContext: { namespaceOptions: { network: 2 } } } };
    ids.push((await t.client.runtime.runPodSandbox({ config: cfg })).podSandboxId);
  }
  try {
    return await sample(LIST_SAMPLES, () => t.client.runtime.listPodSandbox({}));
  } finally {
    for (const id of ids) await t.client.runtime.removePodSandbox({ podSandboxId: id }).catch(() => {});
  }
}

export async function benchPods(targets: Target[]): Promise<Row[]> {
  const life: Record<string, Awaited<ReturnType<typeof lifecycle>>> = {};
  const list: Record<string, number[]> = {};
  for (const t of targets) {
    life[t.name] = await lifecycle(t);
    list[t.name] = await listing(t);
  }
  const row = (metric: string, pick: (name: string) => number): Row => ({
    metric,
    unit: "ms",
    better: "lower",
    values: { crib: pick("crib"), "containerd-cri": pick("containerd-cri") },
  });
  return [
    row(`RunPodSandbox p50 (${LIFECYCLE_PODS} pods)`, (n) => percentile(life[n]!.run, 50)),
    row(`RunPodSandbox p99`, (n) => percentile(life[n]!.run, 99)),
    row(`StopPodSandbox p50`, (n) => percentile(life[n]!.stop, 50)),
    row(`StopPodSandbox p99`, (n) => percentile(life[n]!.stop, 99)),
    row(`RemovePodSandbox p50`, (n) => percentile(life[n]!.remove, 50)),
    row(`RemovePodSandbox p99`, (n) => percentile(life[n]!.remove, 99)),
    row(`ListPodSandbox p50 (${LISTED_PODS} pods)`, (n) => percentile(list[n]!, 50)),
    row(`ListPodSandbox p99 (${LISTED_PODS} pods)`, (n) => percentile(list[n]!, 99)),
  ];
}
