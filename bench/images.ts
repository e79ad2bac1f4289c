// ImageService benchmark: crib vs containerd's built-in CRI plugin, same registry, same
// machine, taking turns (10 pulls each, then call by call). Seeds a registry repository
// with N distinct images (one shared layer, N configs), then on each server: PullImage of
// all N (throughput), ImageStatus of each (latency) and ListImages with N images present
// (latency).
//
// `make bench` calls benchImages() from bench/run.ts. Standalone, crib runs as its own
// process (bin/crib), as containerd does, so the benchmark client does not share its loop:
//   npx tsx test/harness/run.ts --with-cri -- npx tsx bench/images.ts [--images 200] [--concurrency 4]
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { connectCri } from "../test/client/cri-client.js";
import { loadHarness, type HarnessInfo } from "../test/harness/env.js";
import { MANIFEST_MEDIA_TYPES, splitReference } from "../test/harness/registry-client.js";
import { alternate, percentile, printTable, timeMs, type Row, type Target } from "./lib.js";

export interface ImagesBenchOptions {
  images: number;
  concurrency: number;
  /** ListImages calls measured. */
  listCalls: number;
}

const DEFAULT_OPTIONS: ImagesBenchOptions = { images: 200, concurrency: 4, listCalls: 50 };

const REPO = "bench-images";

// ---------------------------------------------------------------- registry seeding

async function http(url: string, init: RequestInit, ok: number[]): Promise<Response> {
  const res = await fetch(url, init);
  if (!ok.includes(res.status)) throw new Error(`${init.method ?? "GET"} ${url}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

async function uploadBlob(base: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const start = await http(`${base}/v2/${REPO}/blobs/uploads/`, { method: "POST" }, [202]);
  await start.arrayBuffer();
  const location = new URL(start.headers.get("location")!, base);
  location.searchParams.set("digest", digest);
  const put = await http(location.toString(), { method: "PUT", body: bytes, headers: { "Content-Type": "application/octet-stream" } }, [201]);
  await put.arrayBuffer();
  return digest;
}

/**
 * N images in one repository, tags t0..t(N-1): the busybox fixture's layer under N configs
 * that differ by a label, so each tag is its own CRI image.
 */
export async function seedImages(h: HarnessInfo, n: number): Promise<string[]> {
  const { host, repo, reference } = splitReference(h.images.busybox);
  const base = `http://${host}`;
  const manifestRes = await http(`${base}/v2/${repo}/manifests/${reference}`, { headers: { Accept: MANIFEST_MEDIA_TYPES.join(", ") } }, [200]);
  const manifestType = manifestRes.headers.get("content-type")!;
  const manifest = (await manifestRes.json()) as { config: { digest: string; size: number; mediaType: string }; layers: Array<{ digest: string }> };
  const config = (await (await http(`${base}/v2/${repo}/blobs/${manifest.config.digest}`, {}, [200])).json()) as { config?: { Labels?: Record<string, string> } };
  for (const layer of manifest.layers) {
    const mount = await http(`${base}/v2/${REPO}/blobs/uploads/?mount=${layer.digest}&from=${repo}`, { method: "POST" }, [201, 202]);
    await mount.arrayBuffer();
    if (mount.status !== 201) throw new Error(`registry did not mount ${layer.digest} into ${REPO}`);
  }
  const refs: string[] = [];
  const run = `${Date.now()}-${randomBytes(2).toString("hex")}`;
  for (let i = 0; i < n; i++) {
    const cfg = { ...config, config: { ...config.config, Labels: { ...config.config?.Labels, "crib.bench": `${run}-${i}` } } };
    const bytes = Buffer.from(JSON.stringify(cfg));
    const digest = await uploadBlob(base, bytes);
    const m = { ...manifest, config: { ...manifest.config, digest, size: bytes.length } };
    const put = await http(`${base}/v2/${REPO}/manifests/t${i}`, { method: "PUT", body: JSON.stringify(m), headers: { "Content-Type": manifestType } }, [201]);
    await put.arrayBuffer();
    refs.push(`${host}/${REPO}:t${i}`);
  }
  return refs;
}

// ---------------------------------------------------------------- crib as a process

export interface CribProcess {
  socket: string;
  child: ChildProcess;
  /** Its root dir and namespace: a restart passes them back to startCribProcess. */
  dir: string;
  namespace: string;
  stop(): Promise<void>;
}

/** crib as its own process (bin/crib); `reuse` restarts one on the same dirs and namespace. */
export async function startCribProcess(h: HarnessInfo, reuse?: { dir: string; namespace: string }): Promise<CribProcess> {
  const dir = reuse?.dir ?? join(h.scratchDir, `bench-${randomBytes(3).toString("hex")}`);
  const namespace = reuse?.namespace ?? `bench-${randomBytes(3).toString("hex")}`;
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, "crib.sock");
  const toml = [
    `sandbox_image = ${JSON.stringify(h.images.pause)}`,
    `root_dir = ${JSON.stringify(join(dir, "root"))}`,
    `state_dir = ${JSON.stringify(join(dir, "state"))}`,
    "restrict_oom_score_adj = true",
    "[registry]",
    `config_path = ${JSON.stringify(h.hostsDir)}`,
    "[cni]",
    `bin_dir = ${JSON.stringify(h.cni.binDir)}`,
    `conf_dir = ${JSON.stringify(h.cni.confDir)}`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "crib.toml"), toml);
  const repo = dirname(dirname(fileURLToPath(import.meta.url)));
  const args = ["--config", join(dir, "crib.toml"), "--listen", socket, "--containerd-address", h.containerd.address, "--namespace", namespace, "--log-level", "warn", "--log-format", "text"];
  // BENCH_CRIB_ARGS: more crib flags, after these (e.g. "--log-level debug --trace-file /tmp/t.jsonl").
  args.push(...(process.env["BENCH_CRIB_ARGS"] ?? "").split(" ").filter(Boolean));
  // BENCH_CRIB_NODE_ARGS reaches crib's node only, through bin/crib's CRIB_NODE_ARGS (e.g.
  // "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--heap-prof"): the bench itself stays unprofiled.
  const nodeArgs = process.env["BENCH_CRIB_NODE_ARGS"];
  const env = nodeArgs ? { ...process.env, CRIB_NODE_ARGS: nodeArgs } : process.env;
  const child = spawn(join(repo, "bin/crib"), args, { stdio: ["ignore", "inherit", "inherit"], env });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A fresh client per try: one client's reconnect backoff (1 s, then 1.6x) would be measured
  // as crib's start-up time.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const client = connectCri(socket, 2000);
    try {
      await client.runtime.version({});
      break;
    } catch (e) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`crib did not start: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      client.close();
    }
  }
  return {
    socket,
    child,
    dir,
    namespace,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// ---------------------------------------------------------------- measurements

const timed = async (fn: () => Promise<unknown>): Promise<number> => (await timeMs(fn))[0];

interface Measured {
  pullPerSec: number;
  statusP50: number;
  statusP99: number;
  listP50: number;
  listP99: number;
}

/** Images per turn: the targets take turns pulling this many, 4 at a time. */
const PULL_ROUND = 10;

/** Pulls, then ImageStatus and ListImages, the targets taking turns (bench/lib.ts alternate). */
async function measure(targets: Target[], refs: string[], opts: ImagesBenchOptions): Promise<Partial<Record<Target["name"], Measured>>> {
  // Warm-up: the shared layer is fetched and unpacked once, outside the timing.
  for (const t of targets) await t.client.image.pullImage({ image: { image: refs[0]! } });
  const pullMs: Record<string, number> = Object.fromEntries(targets.map((t) => [t.name, 0]));
  await alternate(targets, Math.ceil(refs.length / PULL_ROUND), async (t, round) => {
    const queue = refs.slice(round * PULL_ROUND, (round + 1) * PULL_ROUND);
    pullMs[t.name]! += await timed(() =>
      Promise.all(
        Array.from({ length: opts.concurrency }, async () => {
          for (let ref = queue.shift(); ref; ref = queue.shift()) await t.client.image.pullImage({ image: { image: ref } });
        }),
      ),
    );
  });
  const status: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  await alternate(targets, refs.length, async (t, i) => {
    status[t.name]!.push(await timed(() => t.client.image.imageStatus({ image: { image: refs[i]! } })));
  });
  const list: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  await alternate(targets, opts.listCalls, async (t) => {
    list[t.name]!.push(await timed(() => t.client.image.listImages({})));
  });
  const out: Partial<Record<Target["name"], Measured>> = {};
  for (const t of targets) {
    out[t.name] = {
      pullPerSec: refs.length / (pullMs[t.name]! / 1000),
      statusP50: percentile(status[t.name]!, 50),
      statusP99: percentile(status[t.name]!, 99),
      listP50: percentile(list[t.name]!, 50),
      listP99: percentile(list[t.name]!, 99),
    };
  }
  return out;
}

/** bench/run.ts entry: seeds the registry and measures the targets side by side. */
export async function benchImages(targets: Target[], opts: ImagesBenchOptions = DEFAULT_OPTIONS): Promise<Row[]> {
  const refs = await seedImages(loadHarness(), opts.images);
  const m = await measure(targets, refs, opts);
  const row = (metric: string, unit: string, better: Row["better"], pick: (x: Measured) => number): Row => ({
    metric,
    unit,
    better,
    values: { crib: m.crib ? pick(m.crib) : NaN, "containerd-cri": m["containerd-cri"] ? pick(m["containerd-cri"]) : NaN },
  });
  const n = opts.images;
  return [
    row(`PullImage, ${n} images, ${opts.concurrency} at a time`, "images/s", "higher", (x) => x.pullPerSec),
    row(`ImageStatus p50, ${n} images present`, "ms", "lower", (x) => x.statusP50),
    row("ImageStatus p99", "ms", "lower", (x) => x.statusP99),
    row(`ListImages p50, ${n}+ images listed`, "ms", "lower", (x) => x.listP50),
    row("ListImages p99", "ms", "lower", (x) => x.listP99),
  ];
}

async function standalone(opts: ImagesBenchOptions): Promise<void> {
  const h = loadHarness();
  if (!h.criContainerd) throw new Error("the images bench needs containerd's CRI: run the harness with --with-cri");
  const crib = await startCribProcess(h);
  const cribClient = connectCri(crib.socket, 300_000);
  const builtin = connectCri(h.criContainerd.criAddress, 300_000);
  try {
    const rows = await benchImages(
      [
        { name: "crib", client: cribClient },
        { name: "containerd-cri", client: builtin },
      ],
      opts,
    );
    printTable(`bench/images (crib as its own process, containerd ${h.containerd.version})`, rows);
  } finally {
    cribClient.close();
    builtin.close();
    await crib.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({ options: { images: { type: "string", default: "200" }, concurrency: { type: "string", default: "4" }, "list-calls": { type: "string", default: "50" } } });
  standalone({ images: Number(values.images), concurrency: Number(values.concurrency), listCalls: Number(values["list-calls"]) }).catch((e: unknown) => {
    process.stderr.write(`bench/images: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
