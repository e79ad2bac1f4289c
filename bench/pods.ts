// bench/pods: RunPodSandbox → StopPodSandbox → RemovePodSandbox latency (p50/p99) over 50
// pods (after LIFECYCLE_WARMUP unmeasured ones), and ListPodSandbox latency with 200 pods,
// crib vs containerd's built-in CRI, the two taking turns step by step (bench/lib.ts alternate).
import { alternate, LIFECYCLE_WARMUP, percentile, sample, type Row, type Target } from "./lib.js";

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

type Life = { run: number[]; stop: number[]; remove: number[] };

/** Pod i's run, stop and remove on one target; the targets take turns pod by pod. */
async function lifecycle(targets: Target[]): Promise<Record<string, Life>> {
  const out: Record<string, Life> = Object.fromEntries(targets.map((t) => [t.name, { run: [], stop: [], remove: [] }]));
  await alternate(targets, LIFECYCLE_WARMUP + LIFECYCLE_PODS, async (t, i) => {
    const o = i < LIFECYCLE_WARMUP ? { run: [], stop: [], remove: [] } : out[t.name]!;
    let id = "";
    o.run.push(...(await sample(1, async () => (id = (await t.client.runtime.runPodSandbox({ config: podConfig("life", i) })).podSandboxId))));
    o.stop.push(...(await sample(1, () => t.client.runtime.stopPodSandbox({ podSandboxId: id }))));
    o.remove.push(...(await sample(1, () => t.client.runtime.removePodSandbox({ podSandboxId: id }))));
  });
  return out;
}

async function listing(targets: Target[]): Promise<Record<string, number[]>> {
  const ids: Record<string, string[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  const out: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  try {
    // Host-network pods: 200 of them need no CNI addresses (the bench subnet is a /24).
    for (const t of targets) {
      for (let i = 0; i < LISTED_PODS; i++) {
        const cfg = { ...podConfig("list", i), hostname: "", linux: { securityContext: { namespaceOptions: { network: 2 } } } };
        ids[t.name]!.push((await t.client.runtime.runPodSandbox({ config: cfg })).podSandboxId);
      }
    }
    await alternate(targets, LIST_SAMPLES, async (t) => {
      out[t.name]!.push(...(await sample(1, () => t.client.runtime.listPodSandbox({}))));
    });
    return out;
  } finally {
    for (const t of targets) for (const id of ids[t.name]!) await t.client.runtime.removePodSandbox({ podSandboxId: id }).catch(() => {});
  }
}

export async function benchPods(targets: Target[]): Promise<Row[]> {
  const life = await lifecycle(targets);
  const list = await listing(targets);
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
