// The OCI spec of a pod's pause container, as containerd's podsandbox controller builds
// it (sandboxContainerSpec, then the sandboxContainerSpecOpts applied at container
// creation, then the privileged /sys tweak of Controller.Start).
import { NamespaceMode, type PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { CriAnnotation, defaultCriAnnotations, passthroughAnnotations } from "./annotations.js";
import { criBaseSpec } from "./default-spec.js";
import { mergeEnv } from "./env.js";
import { cleanPath } from "./go-path.js";
import { parseUsernsIds, withNamespace, withoutNamespace } from "./namespaces.js";
import { sandboxProcessArgs } from "./process-args.js";
import { cgroupsPath, DEFAULT_SANDBOX_CPU_SHARES, DEFAULT_SANDBOX_OOM_SCORE_ADJ, oomScoreAdj } from "./resources.js";
import { seccompFor } from "./security-profiles.js";
import { compactSpec } from "./spec-compact.js";
import { specOptions, type SpecOptions } from "./spec-options.js";
import type { ImageConfig, OciSpec } from "./spec-types.js";
import { generateUserString, int64sToGids, mergeGids, resolveUser, type UserFiles } from "./user.js";

export interface SandboxSpecInput {
  /** Sandbox id (also the pause container's id). */
  id: string;
  config: PodSandboxConfig;
  /** Config of the pause image. */
  imageConfig: ImageConfig;
  /** The pause image's name, for the io.kubernetes.cri.podsandbox.image-name annotation. */
  imageName: string;
  /** The pod's network namespace (bind mount path); ignored for host-network pods. */
  netnsPath: string;
  /** Host paths of the pod's resolv.conf and /dev/shm (the shm is unused with host IPC). */
  paths: { resolvConf: string; shm: string };
  /** The pinned user namespace of a pod with its own user namespace. */
  userNamespacePath?: string | undefined;
  /** The pause image's /etc/passwd and /etc/group, for a user given by name. */
  userFiles?: UserFiles | undefined;
  /** Contents of Localhost seccomp profiles by path (see localhostSeccompPath). */
  seccompProfiles?: Readonly<Record<string, string>> | undefined;
  options?: Partial<SpecOptions> | undefined;
}

export function buildSandboxSpec(input: SandboxSpecInput): OciSpec {
  const opts = specOptions(input.options);
  const { id, config, imageConfig } = input;
  const linux = config.linux;
  const sc = linux?.securityContext;
  const hostNetwork = sc?.namespaceOptions?.network === NamespaceMode.NODE;
  const hostIpc = sc?.namespaceOptions?.ipc === NamespaceMode.NODE;
  const spec = criBaseSpec(id, opts.namespace);
  const process = spec.process!;
  const l = spec.linux!;
  if (imageConfig.Env && imageConfig.Env.length > 0) process.env = mergeEnv([], imageConfig.Env);
  spec.root = { path: "rootfs", readonly: true };
  spec.hostname = config.hostname;
  if (imageConfig.WorkingDir) process.cwd = imageConfig.WorkingDir;
  process.args = sandboxProcessArgs(imageConfig);
  if (linux?.cgroupParent) l.cgroupsPath = cgroupsPath(linux.cgroupParent, id);

  const usernsEnabled = applySandboxNamespaces(spec, config, input.netnsPath, input.userNamespacePath);

  // The pod's /dev/shm and resolv.conf (the latter for VM runtimes such as Kata); nosuid,
  // nodev, noexec are needed for the remount to work in a user namespace.
  const secureRo = ["rbind", "ro", "nosuid", "nodev", "noexec"];
  spec.mounts = [
    ...spec.mounts!.filter((m) => cleanPath(m.destination) !== "/dev/shm"),
    { destination: "/dev/shm", type: "bind", source: hostIpc ? "/dev/shm" : input.paths.shm, options: [...secureRo] },
    { destination: "/etc/resolv.conf", type: "bind", source: input.paths.resolvConf, options: [...secureRo] },
  ];

  process.user = { ...process.user, additionalGids: mergeGids(process.user.additionalGids, int64sToGids(sc?.supplementalGroups ?? [])) };
  const sysctls = sandboxSysctls(config, opts, hostNetwork, usernsEnabled);
  if (Object.keys(sysctls).length > 0) l.sysctl = sysctls;
  l.resources = { ...l.resources, cpu: { shares: DEFAULT_SANDBOX_CPU_SHARES } };
  process.oomScoreAdj = oomScoreAdj(DEFAULT_SANDBOX_OOM_SCORE_ADJ, opts.restrictOOMScoreAdj, opts.currentOOMScoreAdj);
  spec.annotations = {
    ...sizingAnnotations(config),
    ...passthroughAnnotations(config.annotations, opts.podAnnotations),
    ...defaultCriAnnotations(id, "", input.imageName, config, true),
  };

  // A privileged pod's pause container gets a writable /sys, nothing else.
  if (sc?.privileged) {
    const sys = spec.mounts.find((m) => cleanPath(m.destination) === "/sys");
    const ro = sys?.options?.indexOf("ro") ?? -1;
    if (sys && ro >= 0) sys.options = sys.options!.map((o, i) => (i === ro ? "rw" : o));
  }

  // Options containerd applies when it creates the container.
  l.seccomp = seccompFor(
    { seccomp: sc?.seccomp, seccompProfilePath: sc?.seccompProfilePath ?? "", privileged: sc?.privileged ?? false },
    opts,
    process.capabilities?.bounding ?? [],
    input.seccompProfiles,
  );
  const userstr = generateUserString("", sc?.runAsUser?.value, sc?.runAsGroup?.value) || (imageConfig.User ?? "");
  if (userstr !== "") process.user = resolveUser(userstr, input.userFiles ?? {});
  return compactSpec(spec);
}


/**
 * The pod's namespaces: new ones unless the pod shares the host's (a host-network pod
 * also keeps the host's uts), the network namespace crib created, and a user namespace
 * when the pod has one. Returns whether it has one.
 */
function applySandboxNamespaces(spec: OciSpec, config: PodSandboxConfig, netnsPath: string, usernsPath: string | undefined): boolean {
  const ns = config.linux?.securityContext?.namespaceOptions;
  const l = spec.linux!;
  let list = l.namespaces ?? [];
  if (ns?.network === NamespaceMode.NODE) list = withoutNamespace(withoutNamespace(list, "network"), "uts");
  else list = withNamespace(list, { type: "network", path: netnsPath });
  if (ns?.pid === NamespaceMode.NODE) list = withoutNamespace(list, "pid");
  if (ns?.ipc === NamespaceMode.NODE) list = withoutNamespace(list, "ipc");
  const userns = ns?.usernsOptions;
  const idMaps = parseUsernsIds(userns);
  let enabled = false;
  if (userns && idMaps) {
    if (userns.mode === NamespaceMode.NODE) list = withoutNamespace(list, "user");
    else {
      enabled = true;
      if (!list.some((n) => n.type === "user")) list = [...list, { type: "user" }];
      if (usernsPath) list = withNamespace(list, { type: "user", path: usernsPath });
      l.uidMappings = idMaps.uids;
      l.gidMappings = idMaps.gids;
    }
  }
  l.namespaces = list;
  return enabled;
}
/**
 * The pod's sysctls plus, in a pod network namespace, unprivileged ports from 0 and
 * unprivileged ICMP (containerd 2.x's enable_unprivileged_ports/icmp defaults) unless
 * the pod sets those sysctls itself.
 */
function sandboxSysctls(
  config: PodSandboxConfig,
  opts: SpecOptions,
  hostNetwork: boolean,
  usernsEnabled: boolean,
): Record<string, string> {
  const sysctls = { ...(config.linux?.sysctls ?? {}) };
  if (!hostNetwork) {
    if (opts.enableUnprivilegedPorts && !("net.ipv4.ip_unprivileged_port_start" in sysctls))
      sysctls["net.ipv4.ip_unprivileged_port_start"] = "0";
    if (opts.enableUnprivilegedICMP && !("net.ipv4.ping_group_range" in sysctls) && !opts.runningInUserNS && !usernsEnabled)
      sysctls["net.ipv4.ping_group_range"] = "0 2147483647";
  }
  return sysctls;
}

/** The pod's summed container resources, for VM runtimes sizing the sandbox. */
function sizingAnnotations(config: PodSandboxConfig): Record<string, string> {
  const r = config.linux?.resources;
  if (!r) return {};
  return {
    [CriAnnotation.SandboxCPUPeriod]: r.cpuPeriod.toString(),
    [CriAnnotation.SandboxCPUQuota]: r.cpuQuota.toString(),
    [CriAnnotation.SandboxCPUShares]: r.cpuShares.toString(),
    [CriAnnotation.SandboxMem]: r.memoryLimitInBytes.toString(),
  };
}

