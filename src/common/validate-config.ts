// The checks RunPodSandbox, CreateContainer, UpdateContainerResources and ExecSync/Exec
// make before anything is created: what would otherwise fail later (at StartContainer,
// in runc, in CNI) with UNKNOWN, or create files and cgroups outside the places crib
// owns. Pure functions of the request and a few host facts; each error is
// INVALID_ARGUMENT naming the field by its proto path ("config.log_directory: ...").
import { isAbsolute, posix } from "node:path";
import {
  CreateContainerRequestSchema,
  NamespaceMode,
  RunPodSandboxRequestSchema,
  UpdateContainerResourcesRequestSchema,
  type CreateContainerRequest,
  type Int64Value,
  type PodSandboxConfig,
  type RunPodSandboxRequest,
  type UpdateContainerResourcesRequest,
} from "../gen/runtime/v1/api_pb.js";
import { invalidArgument } from "../errors.js";
import { refuseNulBytes } from "./validate-strings.js";
import { validateLinuxResources, type ResourceValidationFacts } from "./validate-resources.js";

/** The kernel's limit on a hostname (HOST_NAME_MAX). */
export const HOSTNAME_MAX_BYTES = 64;
/** The largest uid/gid: 2^32-2 (2^32-1 is the kernel's "no id"). */
const ID_MAX = 4294967294n;

const q = (s: string) => JSON.stringify(s);

function requireAbsolute(path: string, value: string): void {
  if (!isAbsolute(value)) throw invalidArgument(`${path}: ${q(value)} must be an absolute path`);
}

function refuseDotDot(path: string, value: string): void {
  if (value.split("/").includes("..")) throw invalidArgument(`${path}: ${q(value)} must not contain ".." (it would leave the cgroup hierarchy)`);
}

function validateLabels(path: string, labels: Record<string, string>): void {
  if ("" in labels) throw invalidArgument(`${path}: a label key must not be empty`);
}

function validateId(path: string, v: Int64Value | undefined): void {
  if (v && (v.value < 0n || v.value > ID_MAX)) throw invalidArgument(`${path}: ${v.value} is outside 0..${ID_MAX}`);
}

function validateGroups(path: string, groups: readonly bigint[]): void {
  groups.forEach((g, i) => {
    if (g < 0n || g > ID_MAX) throw invalidArgument(`${path}[${i}]: ${g} is outside 0..${ID_MAX}`);
  });
}

// --- sysctls (kubelet's name syntax, runc's "in a namespace of the pod" rule) ---------

/** Kubernetes' sysctl name syntax, with "." or "/" separators. */
const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
/** The IPC namespace's sysctls (runc's validator). */
const IPC_SYSCTLS = new Set(["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]);

/** "net/ipv4/conf/eth0.100/rp_filter" → "net.ipv4.conf.eth0/100.rp_filter" (kubelet's conversion). */
export function sysctlWithDots(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === ".") return name;
  return name.replace(/[./]/g, (c) => (c === "/" ? "." : "/"));
}

/** Why runc would refuse this sysctl for the pod, or undefined. */
export function sysctlProblem(name: string, pod: { hostNetwork: boolean; hostIpc: boolean }): string | undefined {
  if (name.length > 253 || !SYSCTL_NAME.test(name)) return "is not a sysctl name (lower-case words separated by \".\" or \"/\")";
  const n = sysctlWithDots(name);
  if (IPC_SYSCTLS.has(n) || n.startsWith("fs.mqueue.")) return pod.hostIpc ? "cannot be set in the host's IPC namespace" : undefined;
  if (n.startsWith("net.")) return pod.hostNetwork ? "cannot be set in the host's network namespace" : undefined;
  // A host-network pod also keeps the host's UTS namespace.
  if (n === "kernel.domainname") return pod.hostNetwork ? "cannot be set in the host's UTS namespace" : undefined;
  if (n === "kernel.hostname") return "conflicts with the pod's hostname field";
  return "is not in a namespace of the pod (runc refuses it)";
}

// --- RunPodSandbox ------------------------------------------------------------------

/** The parts of a pod config a CreateContainer's sandbox_config also carries into the container. */
function validatePodPaths(path: string, c: PodSandboxConfig): void {
  if (c.logDirectory !== "") requireAbsolute(`${path}.log_directory`, c.logDirectory);
  if (c.linux?.cgroupParent) refuseDotDot(`${path}.linux.cgroup_parent`, c.linux.cgroupParent);
}

export function validateRunPodSandboxRequest(req: RunPodSandboxRequest): void {
  refuseNulBytes(RunPodSandboxRequestSchema, req);
  const c = req.config;
  if (!c) return;
  const ns = c.linux?.securityContext?.namespaceOptions;
  const hostNetwork = ns?.network === NamespaceMode.NODE;
  const hostIpc = ns?.ipc === NamespaceMode.NODE;
  if (!hostNetwork && c.metadata) {
    // CNI_ARGS is "K=V;K=V": a ';' in a value breaks every plugin's parsing.
    for (const [field, v] of [["name", c.metadata.name], ["namespace", c.metadata.namespace], ["uid", c.metadata.uid]] as const) {
      if (v.includes(";")) throw invalidArgument(`config.metadata.${field}: ${q(v)} must not contain ";" (it separates CNI_ARGS entries)`);
    }
  }
  if (Buffer.byteLength(c.hostname) > HOSTNAME_MAX_BYTES)
    throw invalidArgument(`config.hostname: ${Buffer.byteLength(c.hostname)} bytes is longer than the kernel's ${HOSTNAME_MAX_BYTES}`);
  validatePodPaths("config", c);
  validateLabels("config.labels", c.labels);
  c.portMappings.forEach((p, i) => {
    const at = `config.port_mappings[${i}]`;
    if (p.hostPort < 0 || p.hostPort > 65535) throw invalidArgument(`${at}.host_port: ${p.hostPort} is outside 0..65535`);
    if (p.containerPort < 0 || p.containerPort > 65535 || (p.hostPort > 0 && p.containerPort === 0))
      throw invalidArgument(`${at}.container_port: ${p.containerPort} is outside 1..65535`);
  });
  for (const name of Object.keys(c.linux?.sysctls ?? {})) {
    const problem = sysctlProblem(name, { hostNetwork, hostIpc });
    if (problem) throw invalidArgument(`config.linux.sysctls[${q(name)}]: ${problem}`);
  }
  const sc = c.linux?.securityContext;
  if (sc) {
    validateId("config.linux.security_context.run_as_user", sc.runAsUser);
    validateId("config.linux.security_context.run_as_group", sc.runAsGroup);
    validateGroups("config.linux.security_context.supplemental_groups", sc.supplementalGroups);
  }
}

// --- CreateContainer ----------------------------------------------------------------

/** log_path names the container's log file under the pod's log_directory. */
function validateLogPath(path: string, logPath: string): void {
  if (logPath === "") return;
  const base = posix.basename(logPath);
  if (logPath.endsWith("/") || base === "." || base === "..") throw invalidArgument(`${path}: ${q(logPath)} must name a file`);
}

export function validateCreateContainerRequest(req: CreateContainerRequest, host: ResourceValidationFacts): void {
  refuseNulBytes(CreateContainerRequestSchema, req);
  if (req.sandboxConfig?.metadata) validatePodPaths("sandbox_config", req.sandboxConfig);
  const c = req.config;
  if (!c) return;
  if (c.workingDir !== "") requireAbsolute("config.working_dir", c.workingDir);
  c.envs.forEach((e, i) => {
    if (e.key === "" || e.key.includes("=")) throw invalidArgument(`config.envs[${i}].key: ${q(e.key)} must be a non-empty name without "="`);
  });
  c.mounts.forEach((m, i) => {
    requireAbsolute(`config.mounts[${i}].container_path`, m.containerPath);
    requireAbsolute(`config.mounts[${i}].host_path`, m.hostPath);
  });
  c.devices.forEach((d, i) => {
    requireAbsolute(`config.devices[${i}].container_path`, d.containerPath);
    requireAbsolute(`config.devices[${i}].host_path`, d.hostPath);
  });
  validateLogPath("config.log_path", c.logPath);
  validateLabels("config.labels", c.labels);
  validateLinuxResources(c.linux?.resources, "config.linux.resources", host);
  const sc = c.linux?.securityContext;
  if (sc) {
    validateId("config.linux.security_context.run_as_user", sc.runAsUser);
    validateId("config.linux.security_context.run_as_group", sc.runAsGroup);
    validateGroups("config.linux.security_context.supplemental_groups", sc.supplementalGroups);
  }
}

// --- UpdateContainerResources, ExecSync, Exec -----------------------------------------

export function validateUpdateContainerResourcesRequest(req: UpdateContainerResourcesRequest, host: ResourceValidationFacts): void {
  refuseNulBytes(UpdateContainerResourcesRequestSchema, req);
  validateLinuxResources(req.linux, "linux", host);
}

/** An exec's argv: a program to run (NUL bytes are refused with the whole request). */
export function validateExecCommand(cmd: readonly string[]): void {
  if (cmd.length === 0) throw invalidArgument("cmd: must not be empty");
  if (cmd[0] === "") throw invalidArgument("cmd[0]: the program to run must not be empty");
  const nul = cmd.findIndex((a) => a.includes("\0"));
  if (nul >= 0) throw invalidArgument(`cmd[${nul}]: must not contain a NUL byte`);
}
