// bench/scale: every RPC answered from memory, measured with many containers and images
// present (default 500 containers in 10 pods, 100 of them running, 200 images), crib as
// its own process (bin/crib, as in production) vs containerd's built-in CRI. Prints p50
// and p99 of each read, the serving processes' CPU per call (crib + its containerd vs the
// CRI containerd: meaningful on a loaded machine where latencies are not), crib's RSS, and crib's restart: time to the first answer and
// until every container is listed again.
//
// BENCH_SCALE=0.1 divides the counts for quick iterations (at least 1 of each).
import { readFileSync } from "node:fs";
import { loadHarness } from "../test/harness/env.js";
import { connectCri, type CriClient } from "../test/client/cri-client.js";
import { seedImages, startCribProcess, type CribProcess } from "./images.js";
import { percentile, sample, type Row, type Target } from "./lib.js";

const SCALE = Number(process.env["BENCH_SCALE"] ?? "1") || 1;
const n = (x: number) => Math.max(1, Math.round(x * SCALE));
const PODS = n(10);
const CONTAINERS = n(500);
const RUNNING = n(100);
const IMAGES = n(200);
// 500 samples: p99 is the 5th slowest call, not the single slowest of 100.
const SAMPLES = 500;
const WARMUP = 200;

export interface Populated {
  pods: string[];
  containers: string[];
  images: string[];
}

export async function populate(c: CriClient, target: string, image: string, refs: string[]): Promise<Populated> {
  await c.image.pullImage({ image: { image } });
  const queue = [...refs];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let ref = queue.shift(); ref; ref = queue.shift()) await c.image.pullImage({ image: { image: ref } });
    }),
  );
  const pods: string[] = [];
  const containers: string[] = [];
  for (let p = 0; p < PODS; p++) {
    const config = {
      metadata: { name: `scale-${p}`, uid: `${target}-scale-${p}-${process.pid}`, namespace: "bench", attempt: 0 },
      linux: { securityContext: { namespaceOptions: { network: 2 } } },
    };
    const { podSandboxId } = await c.runtime.runPodSandbox({ config });
    pods.push(podSandboxId);
    const perPod = Math.ceil(CONTAINERS / PODS);
    for (let i = 0; i < perPod && containers.length < CONTAINERS; i++) {
      const running = containers.length < RUNNING;
      const cfg = { metadata: { name: `c-${i}`, attempt: 0 }, image: { image }, command: running ? ["sleep", "3600"] : ["true"], labels: { bench: "scale", i: String(i) } };
      const { containerId } = await c.runtime.createContainer({ podSandboxId, config: cfg, sandboxConfig: config });
      containers.push(containerId);
    }
  }
  // Started in a second pass so that running ones are spread over the first pods.
  for (const id of containers.slice(0, RUNNING)) await c.runtime.startContainer({ containerId: id });
  return { pods, containers, images: [image, ...refs] };
}

export async function teardown(c: CriClient, p: Populated): Promise<void> {
  for (const id of p.pods) await c.runtime.removePodSandbox({ podSandboxId: id }).catch(() => {});
}

type Reads = Record<string, number[]>;

/** CPU seconds (user + system) the processes used so far; 0 for one that is gone. */
export function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name: state is [0], utime [11], stime [12] (clock ticks, 100 Hz).
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks * 10;
}

/** One side of the comparison: its client, what was populated there, and the processes that serve it. */
interface Side {
  name: Target["name"];
  client: CriClient;
  populated: Populated;
  pids: number[];
}

/**
 * Latencies per read, and the CPU ms per call the serving processes spent (load-independent).
 * Both sides are populated and measured in the same window, call by call in alternation
 * (crib, containerd, containerd, crib, ...), so a burst of load on the machine lands on both;
 * each op is first warmed up on both (a kubelet's calls find a warm server: the first
 * hundreds of calls of a fresh node process run before V8 has optimised them).
 */
async function reads(sides: Side[]): Promise<Record<string, { ms: Reads; cpu: Record<string, number> }>> {
  const pick = <T>(xs: T[], i: number) => xs[(i * 7) % xs.length]!;
  const opsOf = (c: CriClient, p: Populated): Record<string, (i: number) => Promise<unknown>> => ({
    Version: () => c.runtime.version({}),
    Status: () => c.runtime.status({ verbose: false }),
    ListContainers: () => c.runtime.listContainers({}),
    "ListContainers (by pod)": (i) => c.runtime.listContainers({ filter: { podSandboxId: pick(p.pods, i) } }),
    ContainerStatus: (i) => c.runtime.containerStatus({ containerId: pick(p.containers, i), verbose: false }),
    ListPodSandbox: () => c.runtime.listPodSandbox({}),
    PodSandboxStatus: (i) => c.runtime.podSandboxStatus({ podSandboxId: pick(p.pods, i), verbose: false }),
    ListImages: () => c.image.listImages({}),
    ImageStatus: (i) => c.image.imageStatus({ image: { image: pick(p.images, i) }, verbose: false }),
    ImageFsInfo: () => c.image.imageFsInfo({}),
    ListContainerStats: () => c.runtime.listContainerStats({}),
  });
  const ops = sides.map((s) => opsOf(s.client, s.populated));
  const out: Record<string, { ms: Reads; cpu: Record<string, number> }> = {};
  for (const s of sides) out[s.name] = { ms: {}, cpu: {} };
  for (const name of Object.keys(ops[0]!)) {
    const slow = name === "ListContainerStats";
    const [warm, n] = slow ? [3, 30] : [WARMUP, SAMPLES];
    for (let i = 0; i < warm; i++) for (const o of ops) await o[name]!(i);
    const before = sides.map((s) => cpuMs(s.pids));
    const ms: number[][] = sides.map(() => []);
    for (let i = 0; i < n; i++) {
      // Alternate who goes first: neither side always follows the other's call.
      for (let k = 0; k < sides.length; k++) {
        const j = i % 2 === 0 ? k : sides.length - 1 - k;
        ms[j]!.push(...(await sample(1, () => ops[j]![name]!(i))));
      }
    }
    sides.forEach((s, j) => {
      out[s.name]!.ms[name] = ms[j]!;
      out[s.name]!.cpu[name] = (cpuMs(s.pids) - before[j]!) / n;
    });
  }
  return out;
}

/** VmRSS (now) or VmHWM (the peak so far) of a process, in MiB. */
export function rssMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Restarts crib on the same state: ms to the first answer, ms until every container is listed. */
export async function restart(proc: CribProcess, expected: number): Promise<{ proc: CribProcess; firstMs: number; allMs: number }> {
  await proc.stop();
  const t0 = process.hrtime.bigint();
  const again = await startCribProcess(loadHarness(), { dir: proc.dir, namespace: proc.namespace });
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = connectCri(again.socket);
  try {
    for (;;) {
      const { containers } = await c.runtime.listContainers({});
      if (containers.length >= expected) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    c.close();
  }
  return { proc: again, firstMs, allMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

export async function benchScale(targets: Target[]): Promise<Row[]> {
  const h = loadHarness();
  const refs = await seedImages(h, IMAGES);
  const builtin = targets.find((t) => t.name === "containerd-cri")!;
  let proc = await startCribProcess(h);
  const results: Partial<Record<Target["name"], Reads>> = {};
  const cpu: Partial<Record<Target["name"], Record<string, number>>> = {};
  const rss = { start: rssMiB(proc.child.pid!), populated: NaN, afterReads: NaN, peak: NaN, restarted: NaN };
  let restarted = { firstMs: NaN, allMs: NaN };
  let cri: Populated | undefined;
  try {
    const cribClient = connectCri(proc.socket, 300_000);
    let populated: Populated | undefined;
    try {
      populated = await populate(cribClient, "crib", h.images.busybox, refs);
      rss.populated = rssMiB(proc.child.pid!);
      cri = await populate(builtin.client, "containerd-cri", h.images.busybox, refs);
      const r = await reads([
        // crib's own CPU plus its containerd's: what serving the call cost the node.
        { name: "crib", client: cribClient, populated, pids: [proc.child.pid!, h.containerd.pid] },
        { name: "containerd-cri", client: builtin.client, populated: cri, pids: [h.criContainerd!.pid] },
      ]);
      for (const [name, v] of Object.entries(r)) {
        results[name as Target["name"]] = v.ms;
        cpu[name as Target["name"]] = v.cpu;
      }
      rss.afterReads = rssMiB(proc.child.pid!);
      rss.peak = rssMiB(proc.child.pid!, "VmHWM");
    } finally {
      cribClient.close();
    }
    const r = await restart(proc, CONTAINERS);
    proc = r.proc;
    restarted = r;
    rss.restarted = rssMiB(proc.child.pid!);
    const again = connectCri(proc.socket, 300_000);
    await teardown(again, populated).finally(() => again.close());
  } finally {
    await proc.stop();
    if (cri) await teardown(builtin.client, cri);
  }
  const scale = `${CONTAINERS} containers/${RUNNING} running, ${IMAGES} images`;
  const rows: Row[] = [];
  for (const op of Object.keys(results.crib!)) {
    for (const p of [50, 99]) {
      rows.push({
        metric: `${op} p${p}${p === 50 ? ` (${scale})` : ""}`,
        unit: "ms",
        better: "lower",
        values: { crib: percentile(results.crib![op]!, p), "containerd-cri": percentile(results["containerd-cri"]![op]!, p) },
      });
    }
    rows.push({ metric: `${op} server CPU per call`, unit: "ms", better: "lower", values: { crib: cpu.crib![op]!, "containerd-cri": cpu["containerd-cri"]![op]! } });
  }
  const only = (metric: string, unit: string, v: number): Row => ({ metric, unit, better: "lower", values: { crib: v, "containerd-cri": NaN } });
  rows.push(
    only("crib RSS at start", "MiB", rss.start),
    only(`crib RSS with ${scale}`, "MiB", rss.populated),
    only(`crib RSS after the reads`, "MiB", rss.afterReads),
    only(`crib RSS peak (start to after the reads)`, "MiB", rss.peak),
    only(`crib RSS after a restart with ${scale}, all listed`, "MiB", rss.restarted),
    only("crib restart: first answer", "ms", restarted.firstMs),
    only(`crib restart: all ${CONTAINERS} containers listed`, "ms", restarted.allMs),
  );
  return rows;
}
