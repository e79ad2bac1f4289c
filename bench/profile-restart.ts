// Targeted loop for crib's restart and memory: crib as its own process (bin/crib) gets
// BENCH_SCALE x 500 containers (100 running) in 10 pods, then is restarted a few times;
// prints RSS (now and peak) and, per restart, the ms to the first answer and until every
// container is listed. BENCH_CRIB_NODE_ARGS reaches crib's node (--cpu-prof, --heap-prof,
// --heapsnapshot-signal=SIGUSR2 ...).
//   BENCH_SCALE=0.2 npx tsx test/harness/run.ts -- npx tsx bench/profile-restart.ts [restarts]
import { readFileSync } from "node:fs";
import { loadHarness } from "../test/harness/env.js";
import { connectCri } from "../test/client/cri-client.js";
import { startCribProcess } from "./images.js";
import { cpuMs, populate, restart, rssMiB, teardown } from "./scale.js";

const RESTARTS = Number(process.argv[2] ?? "3");
const h = loadHarness();
let proc = await startCribProcess(h);
/** Resident MiB by kind of mapping: malloc's [heap], other anonymous (V8's heap, thread arenas), files (code). */
function mappings(pid: number): string {
  const kinds: Record<string, number> = {};
  let kind = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === "" ? "anon" : head[1]!.startsWith("/") ? "file" : head[1]!;
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kinds[kind] = (kinds[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return Object.entries(kinds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ");
}
const rss = (label: string) => console.log(`${label.padEnd(28)} RSS ${rssMiB(proc.child.pid!).toFixed(1)} MiB  peak ${rssMiB(proc.child.pid!, "VmHWM").toFixed(1)} MiB  (${mappings(proc.child.pid!)})`);
rss("start");
const client = connectCri(proc.socket, 300_000);
const populated = await populate(client, "crib", h.images.busybox, []);
rss(`${populated.containers.length} containers`);
// The kubelet's steady reads: lists, statuses and stats.
const readsStart = performance.now();
const cpuStart = cpuMs([proc.child.pid!]);
for (let i = 0; i < 100; i++) {
  await client.runtime.listContainers({});
  await client.runtime.containerStatus({ containerId: populated.containers[i % populated.containers.length]! });
  await client.runtime.listPodSandbox({});
  if (i % 4 === 0) await client.runtime.listContainerStats({});
}
client.close();
rss(`after 100 rounds of reads (${(performance.now() - readsStart).toFixed(0)} ms, crib cpu ${cpuMs([proc.child.pid!]) - cpuStart} ms)`);
if (process.env["BENCH_SIGUSR2"]) {
  // With BENCH_CRIB_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR": a heap snapshot now.
  proc.child.kill("SIGUSR2");
  await new Promise((res) => setTimeout(res, 15_000));
  rss("after the signal");
}
for (let i = 0; i < RESTARTS; i++) {
  const r = await restart(proc, populated.containers.length);
  proc = r.proc;
  console.log(`restart ${i + 1}: first answer ${r.firstMs.toFixed(0)} ms, all listed ${r.allMs.toFixed(0)} ms`);
  await new Promise((res) => setTimeout(res, 1000));
  rss(`after restart ${i + 1}`);
}
const again = connectCri(proc.socket, 300_000);
await teardown(again, populated).finally(() => again.close());
await proc.stop();
process.exit(0);
