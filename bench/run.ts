// `make bench`: runs under the harness with --with-cri, so one run measures crib (in front
// of the harness's containerd) and containerd's built-in CRI (second containerd, same
// registry, CNI and pause image) on the same machine, and prints the ratios.
// Optional argument: which benches (pods, images, ...); default all that exist.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connectCri } from "../test/client/cri-client.js";
import { loadHarness } from "../test/harness/env.js";
import { printTable, type Row, type Target } from "./lib.js";
import { startCribProcess } from "./images.js";

type Bench = (targets: Target[]) => Promise<Row[]>;

const BENCHES: Record<string, { file: string; fn: string }> = {
  images: { file: "images.ts", fn: "benchImages" },
  pods: { file: "pods.ts", fn: "benchPods" },
  containers: { file: "containers.ts", fn: "benchContainers" },
  streaming: { file: "streaming.ts", fn: "benchStreaming" },
  stats: { file: "stats.ts", fn: "benchStats" },
  scale: { file: "scale.ts", fn: "benchScale" },
};

const LIFECYCLE_STEPS = ["RunPodSandbox", "CreateContainer", "StartContainer", "StopContainer", "RemoveContainer", "StopPodSandbox", "RemovePodSandbox"];

/** The sum of the seven lifecycle steps' p50 (issue 12's goal 2), when pods and containers ran. */
function lifecycleSum(rows: Row[]): Row | undefined {
  const steps = LIFECYCLE_STEPS.map((op) => rows.find((r) => r.metric.startsWith(`${op} p50`)));
  if (steps.some((r) => !r)) return undefined;
  const sum = (t: Target["name"]) => steps.reduce((acc, r) => acc + r!.values[t], 0);
  return { metric: `Run → Create → Start → Stop → Remove container → Stop → Remove pod, sum of p50`, unit: "ms", better: "lower", values: { crib: sum("crib"), "containerd-cri": sum("containerd-cri") } };
}

async function main(): Promise<void> {
  const harness = loadHarness();
  if (!harness.criContainerd) throw new Error("bench needs the harness started with --with-cri");
  // crib as its own process (bin/crib, the built dist/crib.mjs, warn-level logs), as in
  // production: in this process its server work would share the bench client's event loop.
  const crib = await startCribProcess(harness);
  const cribClient = connectCri(crib.socket);
  const builtin = connectCri(harness.criContainerd.criAddress);
  const targets: Target[] = [
    { name: "crib", client: cribClient },
    { name: "containerd-cri", client: builtin },
  ];
  const wanted = process.argv.slice(2);
  const all: Row[] = [];
  try {
    for (const [name, b] of Object.entries(BENCHES)) {
      if (wanted.length && !wanted.includes(name)) continue;
      if (!existsSync(join(import.meta.dirname, b.file))) continue;
      const mod = (await import(`./${b.file}`)) as Record<string, Bench>;
      const fn = mod[b.fn];
      if (!fn) throw new Error(`bench/${b.file} does not export ${b.fn}`);
      const rows = await fn(targets);
      all.push(...rows);
      printTable(`bench/${name} (containerd ${harness.containerd.version}, ${new Date().toISOString()})`, rows);
    }
    const lifecycle = lifecycleSum(all);
    if (lifecycle) printTable("pod + container lifecycle", [lifecycle]);
  } finally {
    builtin.close();
    cribClient.close();
    await crib.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
