import { test } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, CriError } from "../../src/errors.js";
import {
  CreateContainerRequestSchema,
  LinuxContainerResourcesSchema,
  NamespaceMode,
  RunPodSandboxRequestSchema,
  UpdateContainerResourcesRequestSchema,
} from "../../src/gen/runtime/v1/api_pb.js";
import {
  sysctlProblem,
  sysctlWithDots,
  validateCreateContainerRequest,
  validateExecCommand,
  validateRunPodSandboxRequest,
  validateUpdateContainerResourcesRequest,
} from "../../src/common/validate-config.js";
import { parseCpuList, validateLinuxResources, type ResourceValidationFacts } from "../../src/common/validate-resources.js";
import { findNulByte } from "../../src/common/validate-strings.js";

const V1_HOST: ResourceValidationFacts = { cgroupV2: false, onlineCpus: new Set([0, 1]), onlineMems: new Set([0]) };
const V2_HOST: ResourceValidationFacts = { ...V1_HOST, cgroupV2: true };

/** The error a check throws: [code, message], or [OK, ""]. */
function outcome(fn: () => void): [Code, string] {
  try {
    fn();
    return [Code.OK, ""];
  } catch (e) {
    assert.ok(e instanceof CriError, `not a CriError: ${String(e)}`);
    return [e.code, e.message];
  }
}

/** Each case: what, the request, and undefined (accepted) or the field path the message starts with. */
type Case<T> = [string, T, string | undefined];

function runTable<T>(cases: Case<T>[], check: (req: T) => void): void {
  for (const [what, req, field] of cases) {
    const [code, message] = outcome(() => check(req));
    if (field === undefined) assert.equal(code, Code.OK, `${what}: refused with ${message}`);
    else {
      assert.equal(code, Code.INVALID_ARGUMENT, `${what}: accepted`);
      assert.ok(message.startsWith(`${field}: `), `${what}: message ${JSON.stringify(message)} does not name ${field}`);
    }
  }
}

type PodInit = MessageInitShape<typeof RunPodSandboxRequestSchema>;
const pod = (config: Record<string, unknown> = {}): PodInit =>
  ({ config: { metadata: { name: "web", namespace: "default", uid: "u-1" }, logDirectory: "/var/log/pods/x", ...config } }) as PodInit;
const hostNet = { securityContext: { namespaceOptions: { network: NamespaceMode.NODE } } };

test("RunPodSandbox: NUL bytes, paths, cgroup parent, hostname, labels, sysctls, ids, ports", () => {
  const cases: Case<PodInit>[] = [
    ["valid", pod(), undefined],
    ["NUL in the pod name", pod({ metadata: { name: "a\0b", namespace: "d", uid: "u" } }), "config.metadata.name"],
    ["NUL in the namespace", pod({ metadata: { name: "a", namespace: "d\0", uid: "u" } }), "config.metadata.namespace"],
    ["NUL in a label value", pod({ labels: { app: "x\0" } }), 'config.labels["app"]'],
    ["NUL in an annotation key", pod({ annotations: { "a\0": "x" } }), 'config.annotations["a\\0"]'],
    ["NUL in a DNS server", pod({ dnsConfig: { servers: ["1.1.1.1", "8.8.8.8\0"] } }), "config.dns_config.servers[1]"],
    ["';' in the uid (CNI_ARGS)", pod({ metadata: { name: "a", namespace: "d", uid: "u;IgnoreUnknown=1" } }), "config.metadata.uid"],
    ["';' in the name of a host-network pod", pod({ metadata: { name: "a;b", namespace: "d", uid: "u" }, linux: hostNet }), undefined],
    ["relative log_directory", pod({ logDirectory: "logs" }), "config.log_directory"],
    ["../ log_directory", pod({ logDirectory: "../../tmp/x" }), "config.log_directory"],
    ["no log_directory", pod({ logDirectory: "" }), undefined],
    ["cgroup_parent with ..", pod({ linux: { cgroupParent: "/kubepods/../../escape" } }), "config.linux.cgroup_parent"],
    ["systemd cgroup_parent", pod({ linux: { cgroupParent: "kubepods-besteffort-pod1.slice" } }), undefined],
    ["hostname of 64 bytes", pod({ hostname: "h".repeat(64) }), undefined],
    ["hostname of 65 bytes", pod({ hostname: "h".repeat(65) }), "config.hostname"],
    ["empty label key", pod({ labels: { "": "x" } }), "config.labels"],
    ["net sysctl", pod({ linux: { sysctls: { "net.ipv4.ip_forward": "1", "net/ipv4/conf/eth0.100/rp_filter": "1" } } }), undefined],
    ["ipc sysctl", pod({ linux: { sysctls: { "kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "20" } } }), undefined],
    ["net sysctl on host network", pod({ linux: { ...hostNet, sysctls: { "net.ipv4.ip_forward": "1" } } }), 'config.linux.sysctls["net.ipv4.ip_forward"]'],
    ["host sysctl", pod({ linux: { sysctls: { "vm.swappiness": "1" } } }), 'config.linux.sysctls["vm.swappiness"]'],
    ["malformed sysctl", pod({ linux: { sysctls: { "net..x": "1" } } }), 'config.linux.sysctls["net..x"]'],
    ["upper-case sysctl", pod({ linux: { sysctls: { "NET.ipv4.x": "1" } } }), 'config.linux.sysctls["NET.ipv4.x"]'],
    ["kernel.hostname sysctl", pod({ linux: { sysctls: { "kernel.hostname": "x" } } }), 'config.linux.sysctls["kernel.hostname"]'],
    ["negative supplemental group", pod({ linux: { securityContext: { supplementalGroups: [1n, -1n] } } }), "config.linux.security_context.supplemental_groups[1]"],
    ["negative run_as_user", pod({ linux: { securityContext: { runAsUser: { value: -5n } } } }), "config.linux.security_context.run_as_user"],
    ["run_as_group past 2^32-2", pod({ linux: { securityContext: { runAsGroup: { value: 4294967295n } } } }), "config.linux.security_context.run_as_group"],
    ["host port out of range", pod({ portMappings: [{ containerPort: 80, hostPort: 70000 }] }), "config.port_mappings[0].host_port"],
    ["container port 0 with a host port", pod({ portMappings: [{ containerPort: 0, hostPort: 8080 }] }), "config.port_mappings[0].container_port"],
  ];
  runTable(cases, (init) => validateRunPodSandboxRequest(create(RunPodSandboxRequestSchema, init)));
});

type CtrInit = MessageInitShape<typeof CreateContainerRequestSchema>;
const ctr = (config: Record<string, unknown> = {}, rest: Omit<CtrInit, "config"> = {}): CtrInit =>
  ({ podSandboxId: "p", config: { metadata: { name: "app" }, image: { image: "busybox" }, logPath: "app/0.log", ...config }, ...rest }) as CtrInit;
const res = (r: MessageInitShape<typeof LinuxContainerResourcesSchema>) => ({ linux: { resources: r } });

test("CreateContainer: NUL bytes, paths, env keys, log path, labels, resources, ids", () => {
  const cases: Case<CtrInit>[] = [
    ["valid", ctr(), undefined],
    ["NUL in an env value", ctr({ envs: [{ key: "A", value: "1" }, { key: "B", value: "x\0y" }] }), "config.envs[1].value"],
    ["NUL in an argument", ctr({ args: ["sh", "-c", "echo\0"] }), "config.args[2]"],
    ["NUL in the command", ctr({ command: ["/bin/\0sh"] }), "config.command[0]"],
    ["NUL in a mount host path", ctr({ mounts: [{ containerPath: "/d", hostPath: "/tmp/\0" }] }), "config.mounts[0].host_path"],
    ["NUL in the image", ctr({ image: { image: "busybox\0" } }), "config.image.image"],
    ["NUL in the sandbox config", ctr({}, { sandboxConfig: { metadata: { name: "p\0" } } }), "sandbox_config.metadata.name"],
    ["empty env key", ctr({ envs: [{ key: "", value: "1" }] }), "config.envs[0].key"],
    ["env key with =", ctr({ envs: [{ key: "A=B", value: "1" }] }), "config.envs[0].key"],
    ["relative working_dir", ctr({ workingDir: "work" }), "config.working_dir"],
    ["absolute working_dir", ctr({ workingDir: "/work" }), undefined],
    ["relative host_path", ctr({ mounts: [{ containerPath: "/d", hostPath: "../../tmp/x" }] }), "config.mounts[0].host_path"],
    ["empty host_path", ctr({ mounts: [{ containerPath: "/d", hostPath: "" }] }), "config.mounts[0].host_path"],
    ["relative container_path", ctr({ mounts: [{ containerPath: "d", hostPath: "/tmp" }] }), "config.mounts[0].container_path"],
    ["relative device path", ctr({ devices: [{ containerPath: "dev/x", hostPath: "/dev/null" }] }), "config.devices[0].container_path"],
    ["log_path naming a dir", ctr({ logPath: "dir/" }), "config.log_path"],
    ["log_path ..", ctr({ logPath: "a/.." }), "config.log_path"],
    ["sandbox_config relative log_directory", ctr({}, { sandboxConfig: { metadata: { name: "p" }, logDirectory: "rel" } }), "sandbox_config.log_directory"],
    ["sandbox_config cgroup_parent ..", ctr({}, { sandboxConfig: { metadata: { name: "p" }, linux: { cgroupParent: "/a/../b" } } }), "sandbox_config.linux.cgroup_parent"],
    ["empty label key", ctr({ labels: { "": "v" } }), "config.labels"],
    ["negative supplemental group", ctr({ linux: { securityContext: { supplementalGroups: [-1n] } } }), "config.linux.security_context.supplemental_groups[0]"],
    ["negative run_as_user", ctr({ linux: { securityContext: { runAsUser: { value: -1n } } } }), "config.linux.security_context.run_as_user"],
    ["cpu_shares 1", ctr(res({ cpuShares: 1n })), "config.linux.resources.cpu_shares"],
    ["memory 9223372036854775807", ctr(res({ memoryLimitInBytes: 9223372036854775807n, cpuQuota: -1n })), undefined],
  ];
  runTable(cases, (init) => validateCreateContainerRequest(create(CreateContainerRequestSchema, init), V1_HOST));
});

test("resources: the ranges runc and the kernel accept", () => {
  const cases: Case<MessageInitShape<typeof LinuxContainerResourcesSchema>>[] = [
    ["all unset", {}, undefined],
    ["typical", { cpuShares: 512n, cpuPeriod: 100000n, cpuQuota: 50000n, memoryLimitInBytes: 64n << 20n, memorySwapLimitInBytes: 128n << 20n, oomScoreAdj: 1000n }, undefined],
    ["largest exact values", { cpuShares: 262144n, cpuPeriod: 1000000n, cpuQuota: (1n << 44n) - 1n, memoryLimitInBytes: 9223372036854775807n, memorySwapLimitInBytes: -1n, oomScoreAdj: -1000n }, undefined],
    ["cpu_shares 1", { cpuShares: 1n }, "linux.cpu_shares"],
    ["cpu_shares -1 (uint64 in the spec)", { cpuShares: -1n }, "linux.cpu_shares"],
    ["cpu_shares 262145", { cpuShares: 262145n }, "linux.cpu_shares"],
    ["cpu_period -1 (uint64 in the spec)", { cpuPeriod: -1n }, "linux.cpu_period"],
    ["cpu_period 999", { cpuPeriod: 999n }, "linux.cpu_period"],
    ["cpu_period 1000001", { cpuPeriod: 1000001n }, "linux.cpu_period"],
    ["cpu_quota -1 (unlimited)", { cpuQuota: -1n }, undefined],
    ["cpu_quota -2", { cpuQuota: -2n }, "linux.cpu_quota"],
    ["cpu_quota 999", { cpuQuota: 999n }, "linux.cpu_quota"],
    ["cpu_quota 2^63-1", { cpuQuota: 9223372036854775807n }, "linux.cpu_quota"],
    ["memory -1 (unlimited)", { memoryLimitInBytes: -1n }, undefined],
    ["memory 1 byte", { memoryLimitInBytes: 1n }, "linux.memory_limit_in_bytes"],
    ["memory just below 6 MiB", { memoryLimitInBytes: (6n << 20n) - 1n }, "linux.memory_limit_in_bytes"],
    ["memory 6 MiB", { memoryLimitInBytes: 6n << 20n }, undefined],
    ["memory -2", { memoryLimitInBytes: -2n }, "linux.memory_limit_in_bytes"],
    ["swap below memory", { memoryLimitInBytes: 64n << 20n, memorySwapLimitInBytes: 32n << 20n }, "linux.memory_swap_limit_in_bytes"],
    ["swap equal to memory", { memoryLimitInBytes: 64n << 20n, memorySwapLimitInBytes: 64n << 20n }, undefined],
    ["swap without memory", { memorySwapLimitInBytes: 64n << 20n }, "linux.memory_swap_limit_in_bytes"],
    ["swap -2", { memoryLimitInBytes: 64n << 20n, memorySwapLimitInBytes: -2n }, "linux.memory_swap_limit_in_bytes"],
    ["oom_score_adj 1001", { oomScoreAdj: 1001n }, "linux.oom_score_adj"],
    ["oom_score_adj 2^63-1", { oomScoreAdj: 9223372036854775807n }, "linux.oom_score_adj"],
    ["oom_score_adj -1001", { oomScoreAdj: -1001n }, "linux.oom_score_adj"],
    ["cpuset 0-1", { cpusetCpus: "0-1", cpusetMems: "0" }, undefined],
    ["cpuset of a missing CPU", { cpusetCpus: "0,7" }, "linux.cpuset_cpus"],
    ["cpuset malformed", { cpusetCpus: "0-" }, "linux.cpuset_cpus"],
    ["cpuset backwards", { cpusetCpus: "1-0" }, "linux.cpuset_cpus"],
    ["cpuset_mems of a missing node", { cpusetMems: "1" }, "linux.cpuset_mems"],
    ["unified on cgroup v1", { unified: { "memory.high": "1000000" } }, "linux.unified"],
    ["hugepage size malformed", { hugepageLimits: [{ pageSize: "2M", limit: 1n }] }, "linux.hugepage_limits[0].page_size"],
  ];
  runTable(cases, (init) => validateUpdateContainerResourcesRequest(create(UpdateContainerResourcesRequestSchema, { containerId: "c", linux: init }), V1_HOST));
  const v2 = (unified: Record<string, string>) => outcome(() => validateLinuxResources(create(LinuxContainerResourcesSchema, { unified }), "r", V2_HOST))[0];
  assert.equal(v2({ "memory.high": "1000000", "pids.max": "10" }), Code.OK);
  assert.equal(v2({ "../../memory.high": "1" }), Code.INVALID_ARGUMENT);
  assert.equal(v2({ "memory/high": "1" }), Code.INVALID_ARGUMENT);
});

test("exec commands: a program is named, no NUL bytes", () => {
  const cases: Case<string[]>[] = [
    ["echo", ["echo", "hi"], undefined],
    ["empty", [], "cmd"],
    ["empty program", [""], "cmd[0]"],
    ["NUL in an argument", ["sh", "-c", "a\0"], "cmd[2]"],
    ["empty argument", ["echo", ""], undefined],
  ];
  runTable(cases, (cmd) => validateExecCommand(cmd));
});

test("parseCpuList and the sysctl helpers", () => {
  assert.deepEqual(parseCpuList("0-3,5,7-8"), [0, 1, 2, 3, 5, 7, 8]);
  assert.equal(typeof parseCpuList(""), "string");
  assert.equal(typeof parseCpuList("a"), "string");
  assert.equal(sysctlWithDots("net/ipv4/conf/eth0.100/rp_filter"), "net.ipv4.conf.eth0/100.rp_filter");
  assert.equal(sysctlWithDots("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
  assert.equal(sysctlProblem("kernel.shmmax", { hostNetwork: false, hostIpc: true })?.includes("IPC"), true);
  assert.equal(sysctlProblem("kernel.domainname", { hostNetwork: false, hostIpc: false }), undefined);
});

test("findNulByte walks nested messages, lists and maps", () => {
  const req = create(CreateContainerRequestSchema, { config: { mounts: [{ containerPath: "/a", hostPath: "/b" }, { containerPath: "/c\0", hostPath: "/d" }] } });
  assert.equal(findNulByte(CreateContainerRequestSchema, req), "config.mounts[1].container_path");
  assert.equal(findNulByte(CreateContainerRequestSchema, create(CreateContainerRequestSchema, { config: { annotations: { k: "v" } } })), undefined);
});
