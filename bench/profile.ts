// Targeted loops for `node --cpu-prof`: crib in-process (warn logs) with N containers
// created in one pod, then each read RPC called in a loop; prints the mean ms per call.
//   npx tsx test/harness/run.ts -- node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts [containers] [loops]
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { connectCri } from "../test/client/cri-client.js";
import { loadHarness } from "../test/harness/env.js";
import { createLogger } from "../src/log.js";
import { DEFAULTS } from "../src/config.js";
import { startCrib } from "../src/server/server.js";

const N = Number(process.argv[2] ?? "500");
const LOOPS = Number(process.argv[3] ?? "500");
const ONLY = process.argv[4];
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
  },
  createLogger(process.env["LOG_LEVEL"] ?? "warn", "json"),
);
const c = connectCri(join(dir, "crib.sock"));
const image = h.images.busybox;
await c.image.pullImage({ image: { image } });
const config = { metadata: { name: "p", uid: "p-uid", namespace: "bench", attempt: 0 }, linux: { securityContext: { namespaceOptions: { network: 2 } } } };
const { podSandboxId } = await c.runtime.runPodSandbox({ config });
const ids: string[] = [];
let t0 = performance.now();
const cpuCreate = process.cpuUsage();
for (let i = 0; i < N; i++) {
  const cfg = { metadata: { name: `c-${i}`, attempt: 0 }, image: { image }, command: ["true"], labels: { a: "b", i: String(i) } };
  ids.push((await c.runtime.createContainer({ podSandboxId, config: cfg, sandboxConfig: config })).containerId);
}
const cpuC = process.cpuUsage(cpuCreate);
console.log(`CreateContainer mean ${((performance.now() - t0) / N).toFixed(2)} ms  cpu ${((cpuC.user + cpuC.system) / 1000 / N).toFixed(3)} ms`);
const ops: Record<string, (i: number) => Promise<unknown>> = {
  Version: () => c.runtime.version({}),
  Status: () => c.runtime.status({}),
  ListContainers: () => c.runtime.listContainers({}),
  ListContainersByPod: () => c.runtime.listContainers({ filter: { podSandboxId } }),
  ContainerStatus: (i) => c.runtime.containerStatus({ containerId: ids[i % ids.length]! }),
  PodSandboxStatus: () => c.runtime.podSandboxStatus({ podSandboxId }),
  ListImages: () => c.image.listImages({}),
  ImageStatus: () => c.image.imageStatus({ image: { image } }),
  ImageFsInfo: () => c.image.imageFsInfo({}),
};
for (const [name, fn] of Object.entries(ops)) {
  if (ONLY && !ONLY.split(",").includes(name)) continue;
  for (let i = 0; i < 20; i++) await fn(i);
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < LOOPS; i++) await fn(i);
  const cpu = process.cpuUsage(cpu0);
  console.log(`${name.padEnd(20)} mean ${((performance.now() - t0) / LOOPS).toFixed(3)} ms  cpu ${((cpu.user + cpu.system) / 1000 / LOOPS).toFixed(3)} ms`);
}
console.log(`RSS ${(process.memoryUsage().rss / 1048576).toFixed(1)} MiB (client and crib in this process)`);
await c.runtime.removePodSandbox({ podSandboxId });
c.close();
await crib.stop();
process.exit(0);
