// Targeted loop for `node --cpu-prof` and the trace recorder: crib in-process runs, stops
// and removes N pods (pod network through CNI) one by one and prints each step's p50 /
// mean ms and crib's cpu per loop.
//   npx tsx test/harness/run.ts -- node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-pods.ts [n] [trace-file]
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { connectCri } from "../test/client/cri-client.js";
import { loadHarness } from "../test/harness/env.js";
import { createLogger } from "../src/log.js";
import { DEFAULTS } from "../src/config.js";
import { startCrib } from "../src/server/server.js";

const N = Number(process.argv[2] ?? "20");
const h = loadHarness();
const dir = join(h.scratchDir, `profile-${randomBytes(3).toString("hex")}`);
const crib = await startCrib(
  {
    ...DEFAULTS,
    listen: join(dir, "crib.sock"),
    containerdAddress: h.containerd.address,
    namespace: `profile-${randomBytes(3).toString("hex")}`,
    rootDir: join(dir, "root"),
    stateDir: join(dir, "state"),
    sandboxImage: h.images.pause,
    registryConfigPath: h.hostsDir,
    cniBinDir: h.cni.binDir,
    cniConfDir: h.cni.confDir,
    restrictOOMScoreAdj: true,
    traceFile: process.argv[3] ?? "",
  },
  createLogger(process.env["LOG_LEVEL"] ?? "warn", "json"),
);
const c = connectCri(join(dir, "crib.sock"));
const steps = { run: [] as number[], stop: [] as number[], remove: [] as number[] };
const time = async (into: number[], f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  into.push(performance.now() - t0);
};
// The first pod pulls the pause image: not counted.
const first = await c.runtime.runPodSandbox({ config: { metadata: { name: "warm", uid: "warm-uid", namespace: "bench", attempt: 0 }, linux: {} } });
await c.runtime.removePodSandbox({ podSandboxId: first.podSandboxId });
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  const config = { metadata: { name: `p-${i}`, uid: `p-uid-${i}`, namespace: "bench", attempt: 0 }, hostname: `p-${i}`, linux: {} };
  let id = "";
  await time(steps.run, async () => (id = (await c.runtime.runPodSandbox({ config })).podSandboxId));
  await time(steps.stop, () => c.runtime.stopPodSandbox({ podSandboxId: id }));
  await time(steps.remove, () => c.runtime.removePodSandbox({ podSandboxId: id }));
}
const cpu = process.cpuUsage(cpu0);
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [k, xs] of Object.entries(steps)) console.log(`${k.padEnd(8)} p50 ${p50(xs).toFixed(2)} ms  mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)} ms`);
console.log(`cpu per loop ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms`);
c.close();
await crib.stop();
process.exit(0);
