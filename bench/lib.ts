// Shared pieces of the benchmarks: the two CRI servers measured side by side in one run
// (crib in front of the harness's containerd, and containerd's built-in CRI on a second
// containerd), timing, percentiles and the printed table of ratios.
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CriClient } from "../test/client/cri-client.js";

export interface Target {
  name: "crib" | "containerd-cri";
  client: CriClient;
}

export interface Row {
  metric: string;
  unit: string;
  /** Lower is better for times; higher for throughputs. */
  better: "lower" | "higher";
  values: Record<Target["name"], number>;
}

export async function timeMs<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/**
 * Lifecycle steps each target runs before the measured ones (pods, containers, execs): a
 * kubelet's RPCs find a long-running server, with its JIT-compiled code and warm caches
 * (the reads get 200 warm-up calls for the same reason). Both targets get them.
 */
export const LIFECYCLE_WARMUP = 5;

/**
 * Runs step(target, i) for i = 0..n-1 on every target, the targets taking turns at each i
 * (and alternating which goes first), so that load on the machine lands on both sides of a
 * comparison alike instead of on whichever ran during a burst.
 */
export async function alternate(targets: readonly Target[], n: number, step: (t: Target, i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i++) {
    const order = i % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) await step(t, i);
  }
}

export async function sample(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await timeMs(() => fn(i)))[0]);
  return out;
}

export function printTable(title: string, rows: Row[]): void {
  const fmt = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : "n/a");
  console.log(`\n## ${title}`);
  console.log("| metric | unit | crib | containerd CRI | crib / containerd |");
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const r of rows) {
    const c = r.values["crib"];
    const d = r.values["containerd-cri"];
    const ratio = c / d;
    const note = r.better === "lower" ? (ratio <= 1 ? "(crib faster)" : "(crib slower)") : ratio >= 1 ? "(crib faster)" : "(crib slower)";
    console.log(`| ${r.metric} | ${r.unit} | ${fmt(c)} | ${fmt(d)} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : "n/a"} ${note} |`);
  }
}

/**
 * A bench pod's config with a log directory of its own. Host-network pods need no CNI
 * address (hundreds fit); pod-network ones have their own netns (port-forward goes there).
 */
export function benchPodConfig(target: string, name: string, network: "host" | "pod") {
  const logDirectory = join(tmpdir(), `crib-bench-logs-${process.pid}`, target, name);
  mkdirSync(logDirectory, { recursive: true });
  return {
    metadata: { name, uid: `${target}-${name}-${process.pid}`, namespace: "bench", attempt: 0 },
    logDirectory,
    linux: network === "host" ? { securityContext: { namespaceOptions: { network: 2 } } } : {},
  };
}

export type BenchPodConfig = ReturnType<typeof benchPodConfig>;
