// Bad requests against the real containerd: each is refused at the first RPC that carries
// it, with the gRPC code and the field named, and leaves nothing anywhere: no containerd
// container, snapshot, lease or sandbox record, no file or dir where the bad path would
// have landed (crib's cwd, /tmp, the cgroup hierarchy roots), no change to the pod and
// container lists or to the stored spec. Then the exact 64-bit values that are valid:
// containers with them start, and containerd holds the exact numbers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { status as Code, type ServiceError } from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ContainerState, NamespaceMode, type ContainerConfigSchema, type LinuxContainerResourcesSchema, type PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { parseExact } from "../../src/containerd/exact-json.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;
type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;
type ResourcesInit = MessageInitShape<typeof LinuxContainerResourcesSchema>;

const MAX_I64 = 9223372036854775807n;
const nonce = randomBytes(4).toString("hex");
const CGROUP_ROOT = "/sys/fs/cgroup";

/** Code and message of a call that must fail. */
async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as ServiceError).code, message: (e as ServiceError).details };
  }
  return { code: Code.OK, message: "" };
}

const listDir = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe("hostile input", () => {
  let t: TestCrib;
  let logRoot: string;
  let seq = 0;
  let pod: { id: string; config: PodInit };
  let running: string;

  const podConfig = (extra: Record<string, unknown> = {}): PodInit => {
    seq++;
    return {
      metadata: { name: `hostile-${seq}`, uid: `uid-${nonce}-${seq}`, namespace: "default", attempt: 0 },
      hostname: `hostile-${seq}`,
      logDirectory: join(logRoot, `pod-${seq}`),
      linux: { cgroupParent: `/crib-hostile-${nonce}/pod-${seq}` },
      ...extra,
    } as PodInit;
  };
  const containerConfig = (name: string, extra: Record<string, unknown> = {}): ContainerInit =>
    ({ metadata: { name, attempt: 0 }, image: { image: t.harness.images.busybox }, command: ["sleep", "3600"], logPath: `${name}/0.log`, ...extra }) as ContainerInit;
  const withResources = (name: string, r: ResourcesInit) => containerConfig(name, { linux: { resources: r } });

  /** Where the bad paths of the cases would land, outside crib's dirs. */
  const strayTargets = () => [
    resolve(process.cwd(), `crib-hostile-rel-${nonce}`),
    resolve(process.cwd(), `../../tmp/crib-hostile-${nonce}`),
    `/tmp/crib-hostile-${nonce}`,
    ...listDir(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h, `crib-hostile-escape-${nonce}`)),
  ];

  /** Everything a refused request must leave as it was. */
  async function world() {
    const cd = t.containerd;
    const snapshots: string[] = [];
    for await (const r of cd.snapshots.list({ snapshotter: t.config.snapshotter, filters: [] })) for (const i of r.info) snapshots.push(i.name);
    return {
      containers: (await cd.containers.list({ filters: [] })).containers.map((c) => c.id).sort(),
      snapshots: snapshots.sort(),
      leases: (await cd.leases.list({ filters: [] })).leases.map((l) => l.id).sort(),
      sandboxes: (await cd.sandboxStore.list({ filters: [] })).list.map((s) => s.sandboxId).sort(),
      pods: (await t.client.runtime.listPodSandbox({})).items.map((p) => p.id).sort(),
      criContainers: (await t.client.runtime.listContainers({})).containers.map((c) => c.id).sort(),
      cwd: listDir(process.cwd()),
      cribDirs: [t.config.rootDir, t.config.stateDir, logRoot].map((d) => listDir(d)),
      podDirs: [join(t.config.rootDir, "sandboxes"), join(t.config.rootDir, "containers"), join(t.config.stateDir, "sandboxes")].map(listDir),
      strays: strayTargets().filter((p) => existsSync(p)),
      runningSpec: Buffer.from((await cd.containers.get({ id: running })).container!.spec!.value).toString(),
      runningResources: (await t.client.runtime.containerStatus({ containerId: running })).status!.resources,
    };
  }

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    logRoot = join(t.harness.scratchDir, `${t.config.namespace}-logs`);
    mkdirSync(logRoot, { recursive: true });
    await t.client.image.pullImage({ image: { image: t.harness.images.busybox } });
    const config = podConfig();
    pod = { id: (await t.client.runtime.runPodSandbox({ config })).podSandboxId, config };
    running = (await t.client.runtime.createContainer({ podSandboxId: pod.id, config: withResources("running", { memoryLimitInBytes: 64n << 20n }), sandboxConfig: pod.config })).containerId;
    await t.client.runtime.startContainer({ containerId: running });
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
  });

  const hostNet = { securityContext: { namespaceOptions: { network: NamespaceMode.NODE } } };
  const create = (config: ContainerInit, sandboxConfig?: PodInit) =>
    t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: sandboxConfig ?? pod.config });
  const update = (linux: ResourcesInit) => t.client.runtime.updateContainerResources({ containerId: running, linux });

  /** [what, the call (made lazily), code, field the message must start with]. */
  const cases: [string, () => Promise<unknown>, number, string][] = [
    // RunPodSandbox
    ["NUL in the pod name", () => t.client.runtime.runPodSandbox({ config: podConfig({ metadata: { name: "a\0b", uid: `u-${nonce}`, namespace: "d" } }) }), Code.INVALID_ARGUMENT, "config.metadata.name"],
    ["NUL in the pod namespace", () => t.client.runtime.runPodSandbox({ config: podConfig({ metadata: { name: "a", uid: `u-${nonce}`, namespace: "d\0" } }) }), Code.INVALID_ARGUMENT, "config.metadata.namespace"],
    ["';' in the pod uid", () => t.client.runtime.runPodSandbox({ config: podConfig({ metadata: { name: "a", uid: "u;K8S_POD_NAME=x", namespace: "d" } }) }), Code.INVALID_ARGUMENT, "config.metadata.uid"],
    ["NUL in an annotation", () => t.client.runtime.runPodSandbox({ config: podConfig({ annotations: { a: "x\0" } }) }), Code.INVALID_ARGUMENT, 'config.annotations["a"]'],
    ["relative log_directory", () => t.client.runtime.runPodSandbox({ config: podConfig({ logDirectory: `crib-hostile-rel-${nonce}` }) }), Code.INVALID_ARGUMENT, "config.log_directory"],
    ["../../tmp log_directory", () => t.client.runtime.runPodSandbox({ config: podConfig({ logDirectory: `../../tmp/crib-hostile-${nonce}` }) }), Code.INVALID_ARGUMENT, "config.log_directory"],
    ["cgroup_parent leaving the hierarchy", () => t.client.runtime.runPodSandbox({ config: podConfig({ linux: { cgroupParent: `/../../crib-hostile-escape-${nonce}` } }) }), Code.INVALID_ARGUMENT, "config.linux.cgroup_parent"],
    ["hostname of 65 bytes", () => t.client.runtime.runPodSandbox({ config: podConfig({ hostname: "h".repeat(65) }) }), Code.INVALID_ARGUMENT, "config.hostname"],
    ["empty label key", () => t.client.runtime.runPodSandbox({ config: podConfig({ labels: { "": "x" } }) }), Code.INVALID_ARGUMENT, "config.labels"],
    ["host-level sysctl", () => t.client.runtime.runPodSandbox({ config: podConfig({ linux: { sysctls: { "vm.swappiness": "10" } } }) }), Code.INVALID_ARGUMENT, 'config.linux.sysctls["vm.swappiness"]'],
    ["net sysctl on the host network", () => t.client.runtime.runPodSandbox({ config: podConfig({ hostname: "", linux: { ...hostNet, sysctls: { "net.ipv4.ip_forward": "1" } } }) }), Code.INVALID_ARGUMENT, 'config.linux.sysctls["net.ipv4.ip_forward"]'],
    ["negative supplemental group", () => t.client.runtime.runPodSandbox({ config: podConfig({ linux: { securityContext: { supplementalGroups: [-1n] } } }) }), Code.INVALID_ARGUMENT, "config.linux.security_context.supplemental_groups[0]"],
    // CreateContainer
    ["NUL in an env value", () => create(containerConfig("c", { envs: [{ key: "A", value: "x\0y" }] })), Code.INVALID_ARGUMENT, "config.envs[0].value"],
    ["NUL in an argument", () => create(containerConfig("c", { args: ["a\0"] })), Code.INVALID_ARGUMENT, "config.args[0]"],
    ["empty env key", () => create(containerConfig("c", { envs: [{ key: "", value: "1" }] })), Code.INVALID_ARGUMENT, "config.envs[0].key"],
    ["env key with =", () => create(containerConfig("c", { envs: [{ key: "A=B", value: "1" }] })), Code.INVALID_ARGUMENT, "config.envs[0].key"],
    ["relative working_dir", () => create(containerConfig("c", { workingDir: "work" })), Code.INVALID_ARGUMENT, "config.working_dir"],
    ["relative mount host_path", () => create(containerConfig("c", { mounts: [{ containerPath: "/d", hostPath: `crib-hostile-rel-${nonce}` }] })), Code.INVALID_ARGUMENT, "config.mounts[0].host_path"],
    ["../../tmp mount host_path", () => create(containerConfig("c", { mounts: [{ containerPath: "/d", hostPath: `../../tmp/crib-hostile-${nonce}` }] })), Code.INVALID_ARGUMENT, "config.mounts[0].host_path"],
    ["relative mount container_path", () => create(containerConfig("c", { mounts: [{ containerPath: "d", hostPath: `/tmp/crib-hostile-${nonce}` }] })), Code.INVALID_ARGUMENT, "config.mounts[0].container_path"],
    ["log_path naming a directory", () => create(containerConfig("c", { logPath: "dir/" })), Code.INVALID_ARGUMENT, "config.log_path"],
    ["sandbox_config cgroup_parent with ..", () => create(containerConfig("c"), { ...pod.config, linux: { cgroupParent: `/../crib-hostile-escape-${nonce}` } } as PodInit), Code.INVALID_ARGUMENT, "sandbox_config.linux.cgroup_parent"],
    ["cpu_shares 1", () => create(withResources("c", { cpuShares: 1n })), Code.INVALID_ARGUMENT, "config.linux.resources.cpu_shares"],
    ["cpu_shares -1", () => create(withResources("c", { cpuShares: -1n })), Code.INVALID_ARGUMENT, "config.linux.resources.cpu_shares"],
    ["cpu_period -1", () => create(withResources("c", { cpuPeriod: -1n })), Code.INVALID_ARGUMENT, "config.linux.resources.cpu_period"],
    ["cpu_quota 2^63-1", () => create(withResources("c", { cpuQuota: MAX_I64 })), Code.INVALID_ARGUMENT, "config.linux.resources.cpu_quota"],
    ["memory limit 1 byte", () => create(withResources("c", { memoryLimitInBytes: 1n })), Code.INVALID_ARGUMENT, "config.linux.resources.memory_limit_in_bytes"],
    ["swap below memory", () => create(withResources("c", { memoryLimitInBytes: 64n << 20n, memorySwapLimitInBytes: 32n << 20n })), Code.INVALID_ARGUMENT, "config.linux.resources.memory_swap_limit_in_bytes"],
    ["oom_score_adj 2^63-1", () => create(withResources("c", { oomScoreAdj: MAX_I64 })), Code.INVALID_ARGUMENT, "config.linux.resources.oom_score_adj"],
    ["cpuset of a missing CPU", () => create(withResources("c", { cpusetCpus: "4095" })), Code.INVALID_ARGUMENT, "config.linux.resources.cpuset_cpus"],
    ["malformed cpuset", () => create(withResources("c", { cpusetCpus: "0-" })), Code.INVALID_ARGUMENT, "config.linux.resources.cpuset_cpus"],
    ["unified on cgroup v1", () => create(withResources("c", { unified: { "memory.high": "100000000" } })), Code.INVALID_ARGUMENT, "config.linux.resources.unified"],
    ["negative container supplemental group", () => create(containerConfig("c", { linux: { securityContext: { supplementalGroups: [-5n] } } })), Code.INVALID_ARGUMENT, "config.linux.security_context.supplemental_groups[0]"],
    // UpdateContainerResources
    ["update: cpu_shares -1", () => update({ cpuShares: -1n }), Code.INVALID_ARGUMENT, "linux.cpu_shares"],
    ["update: cpu_period 2^63-1", () => update({ cpuPeriod: MAX_I64 }), Code.INVALID_ARGUMENT, "linux.cpu_period"],
    ["update: memory 1 byte", () => update({ memoryLimitInBytes: 1n }), Code.INVALID_ARGUMENT, "linux.memory_limit_in_bytes"],
    ["update: cpuset of missing CPUs", () => update({ cpusetCpus: "1000-1001" }), Code.INVALID_ARGUMENT, "linux.cpuset_cpus"],
    ["update: NUL in cpuset", () => update({ cpusetCpus: "0\0" }), Code.INVALID_ARGUMENT, "linux.cpuset_cpus"],
    ["update: oom_score_adj 1001", () => update({ oomScoreAdj: 1001n }), Code.INVALID_ARGUMENT, "linux.oom_score_adj"],
    // ExecSync
    ["exec: empty command", () => t.client.runtime.execSync({ containerId: running, cmd: [], timeout: 10n }), Code.INVALID_ARGUMENT, "cmd"],
    ["exec: empty program", () => t.client.runtime.execSync({ containerId: running, cmd: [""], timeout: 10n }), Code.INVALID_ARGUMENT, "cmd[0]"],
    ["exec: NUL in an argument", () => t.client.runtime.execSync({ containerId: running, cmd: ["echo", "a\0b"], timeout: 10n }), Code.INVALID_ARGUMENT, "cmd[1]"],
  ];

  it("refuses each bad request up front, naming the field, and leaves nothing behind", async () => {
    for (const [what, call, code, field] of cases) {
      const before = await world();
      const got = await failure(call());
      assert.equal(got.code, code, `${what}: code ${got.code} (${got.message})`);
      assert.ok(got.message.startsWith(`${field}: `), `${what}: message ${JSON.stringify(got.message)} does not name ${field}`);
      assert.deepEqual(await world(), before, `${what}: something was left behind`);
    }
    assert.equal((await t.client.runtime.containerStatus({ containerId: running })).status!.state, ContainerState.CONTAINER_RUNNING);
  });

  it("starts containers with exact 64-bit limits and keeps them exact in containerd", async () => {
    const resources = { memoryLimitInBytes: MAX_I64, memorySwapLimitInBytes: -1n, cpuQuota: -1n, cpuPeriod: 1_000_000n, cpuShares: 262144n, oomScoreAdj: 1000n };
    const { containerId: id } = await create(withResources("exact", resources));
    await t.client.runtime.startContainer({ containerId: id });
    const s = (await t.client.runtime.containerStatus({ containerId: id })).status!;
    assert.equal(s.state, ContainerState.CONTAINER_RUNNING);
    assert.equal(s.resources?.linux?.memoryLimitInBytes, MAX_I64);
    assert.equal(s.resources?.linux?.cpuQuota, -1n);

    const text = Buffer.from((await t.containerd.containers.get({ id })).container!.spec!.value).toString();
    assert.match(text, /"limit":9223372036854775807\b/, "containerd holds the exact memory limit");
    const spec = parseExact(text) as { linux: { cgroupsPath: string; resources: { memory: { limit: bigint }; cpu: { quota: number; period: number; shares: number } } } };
    assert.equal(spec.linux.resources.memory.limit, MAX_I64);
    assert.deepEqual(spec.linux.resources.cpu, { ...spec.linux.resources.cpu, quota: -1, period: 1_000_000, shares: 262144 });
    // The kernel's "unlimited" (2^63-1 rounded down to a page) and the shares given.
    const cg = (h: string, f: string) => readFileSync(join(CGROUP_ROOT, h, spec.linux.cgroupsPath, f), "utf8").trim();
    assert.equal(BigInt(cg("memory", "memory.limit_in_bytes")) >= MAX_I64 - 4095n, true);
    assert.equal(cg("cpu", "cpu.shares"), "262144");
    assert.equal(cg("cpu", "cpu.cfs_quota_us"), "-1");

    // Down to 64 MiB and back to 2^63-1 on the running task (Tasks.Update's LinuxResources).
    await t.client.runtime.updateContainerResources({ containerId: id, linux: { memoryLimitInBytes: 64n << 20n } });
    assert.equal(cg("memory", "memory.limit_in_bytes"), String(64 << 20));
    await t.client.runtime.updateContainerResources({ containerId: id, linux: { memoryLimitInBytes: MAX_I64, cpuQuota: 50_000n } });
    assert.equal(BigInt(cg("memory", "memory.limit_in_bytes")) >= MAX_I64 - 4095n, true);
    assert.equal(cg("cpu", "cpu.cfs_quota_us"), "50000");
    const after = (await t.client.runtime.containerStatus({ containerId: id })).status!;
    assert.equal(after.resources?.linux?.memoryLimitInBytes, MAX_I64);
    assert.match(Buffer.from((await t.containerd.containers.get({ id })).container!.spec!.value).toString(), /"limit":9223372036854775807\b/);
  });

  it("treats timeouts past Node's timer limit as no timeout", async () => {
    for (const timeout of [MAX_I64, 2147483648n, 2147484n]) {
      const r = await t.client.runtime.execSync({ containerId: running, cmd: ["sh", "-c", "sleep 0.2; echo done"], timeout });
      assert.equal(r.exitCode, 0, `timeout ${timeout}`);
      assert.equal(Buffer.from(r.stdout).toString(), "done\n", `timeout ${timeout}`);
    }
    // A container that exits on SIGTERM: stopped by the signal, not killed at once.
    const { containerId: id } = await create(containerConfig("graceful", { command: ["sh", "-c", "trap 'exit 3' TERM; while true; do sleep 0.1; done"] }));
    await t.client.runtime.startContainer({ containerId: id });
    await new Promise((r) => setTimeout(r, 300));
    await t.client.runtime.stopContainer({ containerId: id, timeout: MAX_I64 });
    const s = (await t.client.runtime.containerStatus({ containerId: id })).status!;
    assert.equal(s.state, ContainerState.CONTAINER_EXITED);
    assert.equal(s.exitCode, 3, "exited on SIGTERM, not SIGKILL");
  });
});
