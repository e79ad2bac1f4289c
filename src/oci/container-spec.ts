// The OCI spec of an app container, as containerd's CRI plugin builds it: buildLinuxSpec
// (container_create.go), then the platformSpecOpts / containerSpecOpts that containerd
// applies when it creates the container (user, supplementary groups, AppArmor, seccomp).
// The order of the steps matters and follows containerd's: e.g. a privileged container
// gets every capability whatever the security context adds or drops, and the default
// seccomp profile is computed from the final capability set.
import { invalidArgument } from "../errors.js";
import {
  NamespaceMode,
  SupplementalGroupsPolicy,
  type ContainerConfig,
  type LinuxContainerSecurityContext,
  type PodSandboxConfig,
} from "../gen/runtime/v1/api_pb.js";
import { defaultCriAnnotations, passthroughAnnotations } from "./annotations.js";
import { allCapabilities, applyCriCapabilities } from "./capabilities.js";
import { criBaseSpec, DEFAULT_PATH_ENV } from "./default-spec.js";
import { ALL_DEVICES_ALLOWED, criDevices, type DeviceNode } from "./devices.js";
import { mergeEnv } from "./env.js";
import {
  bindMountRequest,
  containerMounts,
  sandboxFileMounts,
  writableSysfsAndCgroupfs,
  type BindMountRequest,
  type HostPathFacts,
  type SandboxFiles,
} from "./mounts.js";
import { nsPathOf, parseUsernsIds, sameUsernsConfig, withNamespace } from "./namespaces.js";
import { containerProcessArgs } from "./process-args.js";
import { applyCriResources, cgroupsPath, oomScoreAdj } from "./resources.js";
import { apparmorProfileFor, seccompFor } from "./security-profiles.js";
import { compactSpec } from "./spec-compact.js";
import { specOptions, type SpecOptions } from "./spec-options.js";
import type { ImageConfig, OciDevice, OciSpec } from "./spec-types.js";
import { generateUserString, int64sToGids, memberGids, mergeGids, resolveUser, type UserFiles } from "./user.js";

export interface ContainerSpecInput {
  /** The new container's id. */
  id: string;
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  sandboxId: string;
  /** Pid of the pause process: the container joins its net, ipc, uts (and pid) namespaces. */
  sandboxPid: number;
  imageConfig: ImageConfig;
  /** The image's containerd name; config.image.userSpecifiedImage wins for the annotation. */
  imageName: string;
  /** The node's hostname, for HOSTNAME when the pod sets none (host-network pods). */
  nodeHostname: string;
  /** The pod's shared files on the host (hostname, hosts, resolv.conf, shm). */
  sandboxFiles: SandboxFiles;
  /** Further bind mounts, e.g. imageVolumeMounts(); CRI mounts win on the same path. */
  extraMounts?: readonly BindMountRequest[] | undefined;
  /** The image's /etc/passwd and /etc/group (undefined fields: the file is absent). */
  userFiles?: UserFiles | undefined;
  /** Device nodes found at each CRI device's host path (see deviceNodeFromStat). */
  deviceNodes?: Readonly<Record<string, readonly DeviceNode[]>> | undefined;
  /** Every device node of the host's /dev, for privileged containers. */
  hostDevices?: readonly OciDevice[] | undefined;
  /** Symlink resolution and propagation of CRI mount host paths. */
  hostPaths?: Readonly<Record<string, HostPathFacts>> | undefined;
  /** Contents of Localhost seccomp profiles by path (see localhostSeccompPath). */
  seccompProfiles?: Readonly<Record<string, string>> | undefined;
  /** Pid of the target container for NamespaceMode.TARGET pid sharing. */
  targetPid?: number | undefined;
  /** Host /sys/fs/cgroup mount options (nsdelegate, memory_recursiveprot on cgroup v2). */
  hostCgroupMountOptions?: readonly string[] | undefined;
  options?: Partial<SpecOptions> | undefined;
}

export function buildContainerSpec(input: ContainerSpecInput): OciSpec {
  const opts = specOptions(input.options);
  const { config, sandboxConfig } = input;
  const sc = config.linux?.securityContext;
  const privileged = sc?.privileged ?? false;
  const spec = criBaseSpec(input.id, opts.namespace);

  applyProcess(spec, input);
  if (opts.cgroupV2 && !privileged) spec.linux!.namespaces = withNamespace(spec.linux!.namespaces ?? [], { type: "cgroup" });
  applyMounts(spec, input, opts);
  if (!opts.disableProcMount) {
    // containerd leaves the defaults to the kubelet, which sends them for every non-privileged container.
    spec.linux!.maskedPaths = [...(sc?.maskedPaths ?? [])];
    spec.linux!.readonlyPaths = [...(sc?.readonlyPaths ?? [])];
  }
  applyDevices(spec, input, opts);
  spec.process!.capabilities = applyCriCapabilities(spec.process!.capabilities ?? {}, sc?.capabilities, opts.hostCapabilities);
  if (privileged) applyPrivileged(spec, input, opts);
  // Ambient capabilities stay off: what non-root + caps should mean is undefined in Kubernetes (kubernetes#56374).
  delete spec.process!.capabilities!.ambient;
  if (sc?.noNewPrivs) spec.process!.noNewPrivileges = true;
  if (sc?.readonlyRootfs) spec.root = { ...spec.root!, readonly: true };

  spec.linux!.resources = applyCriResources(spec.linux!.resources, config.linux?.resources, opts);
  if (sandboxConfig.linux?.cgroupParent) spec.linux!.cgroupsPath = cgroupsPath(sandboxConfig.linux.cgroupParent, input.id);
  applyNamespaces(spec, input);
  if (config.linux?.resources)
    spec.process!.oomScoreAdj = oomScoreAdj(Number(config.linux.resources.oomScoreAdj), opts.restrictOOMScoreAdj, opts.currentOOMScoreAdj);
  const supplementalGroups = int64sToGids(sc?.supplementalGroups ?? []);
  spec.process!.user.additionalGids = mergeGids(spec.process!.user.additionalGids, supplementalGroups);
  const imageName = config.image?.userSpecifiedImage || input.imageName;
  spec.annotations = {
    ...passthroughAnnotations(sandboxConfig.annotations, opts.podAnnotations),
    ...passthroughAnnotations(config.annotations, opts.containerAnnotations),
    ...defaultCriAnnotations(input.sandboxId, config.metadata?.name ?? "", imageName, sandboxConfig, false),
  };

  // What containerd applies at container creation, once the rootfs can be read.
  applyUser(spec, input, supplementalGroups);
  const apparmor = apparmorProfileFor(
    { apparmor: sc?.apparmor, apparmorProfile: sc?.apparmorProfile ?? "", privileged },
    opts,
  );
  if (apparmor !== undefined) spec.process!.apparmorProfile = apparmor;
  const seccomp = seccompFor(
    { seccomp: sc?.seccomp, seccompProfilePath: sc?.seccompProfilePath ?? "", privileged },
    opts,
    spec.process!.capabilities?.bounding ?? [],
    input.seccompProfiles,
  );
  if (seccomp) spec.linux!.seccomp = seccomp;
  return compactSpec(spec);
}

function applyProcess(spec: OciSpec, input: ContainerSpecInput): void {
  const { config, imageConfig } = input;
  const p = spec.process!;
  p.args = containerProcessArgs(config.command, config.args, imageConfig);
  p.env = mergeEnv([], [DEFAULT_PATH_ENV]);
  p.noNewPrivileges = false;
  p.cwd = config.workingDir || imageConfig.WorkingDir || "/";
  if (config.tty) {
    p.terminal = true;
    p.env.push("TERM=xterm");
  }
  p.env = mergeEnv(p.env, [`HOSTNAME=${input.sandboxConfig.hostname || input.nodeHostname}`]);
  // Image env first, so that the CRI config's env overrides it.
  p.env = mergeEnv(p.env, [...(imageConfig.Env ?? []), ...config.envs.map((e) => `${e.key}=${e.value}`)]);
}

function applyMounts(spec: OciSpec, input: ContainerSpecInput, opts: SpecOptions): void {
  const sc = input.config.linux?.securityContext;
  const criMounts = input.config.mounts.map(bindMountRequest);
  const userns = sc?.namespaceOptions?.usernsOptions;
  const podFiles = sandboxFileMounts(
    criMounts,
    input.sandboxFiles,
    sc?.readonlyRootfs ?? false,
    sc?.namespaceOptions?.ipc ?? NamespaceMode.POD,
    userns ? { uids: userns.uids, gids: userns.gids } : undefined,
  );
  const result = containerMounts(spec.mounts ?? [], criMounts, [...podFiles, ...(input.extraMounts ?? [])], {
    cgroupWritable: opts.cgroupWritable,
    hostCgroupMountOptions: input.hostCgroupMountOptions ?? [],
    hasCgroupNamespace: (spec.linux!.namespaces ?? []).some((n) => n.type === "cgroup"),
    recursiveReadOnlyMounts: opts.recursiveReadOnlyMounts,
    hostPaths: input.hostPaths ?? {},
  });
  spec.mounts = result.mounts;
  if (result.rootfsPropagation) spec.linux!.rootfsPropagation = result.rootfsPropagation;
}

function applyDevices(spec: OciSpec, input: ContainerSpecInput, opts: SpecOptions): void {
  const sc = input.config.linux?.securityContext;
  const owner = opts.deviceOwnershipFromSecurityContext
    ? { uid: Number(sc?.runAsUser?.value ?? 0n), gid: Number(sc?.runAsGroup?.value ?? 0n) }
    : undefined;
  const found = criDevices(input.config.devices, input.deviceNodes ?? {}, owner);
  const l = spec.linux!;
  l.devices = [...(l.devices ?? []), ...found.devices];
  l.resources = { ...l.resources, devices: [...(l.resources?.devices ?? []), ...found.cgroupRules] };
}

/** oci.WithPrivileged plus the host's devices, which needs a privileged pod. */
function applyPrivileged(spec: OciSpec, input: ContainerSpecInput, opts: SpecOptions): void {
  if (!input.sandboxConfig.linux?.securityContext?.privileged) throw invalidArgument("no privileged container allowed in sandbox");
  const p = spec.process!;
  const l = spec.linux!;
  p.capabilities = allCapabilities(p.capabilities ?? {}, opts.hostCapabilities);
  delete l.maskedPaths;
  delete l.readonlyPaths;
  spec.mounts = writableSysfsAndCgroupfs(spec.mounts ?? []);
  delete p.selinuxLabel;
  delete p.apparmorProfile;
  delete l.seccomp;
  if (!opts.privilegedWithoutHostDevices) {
    l.devices = [...(l.devices ?? []), ...(input.hostDevices ?? [])];
    l.resources = { ...l.resources, devices: [...ALL_DEVICES_ALLOWED] };
  } else if (opts.privilegedWithoutHostDevicesAllDevicesAllowed) {
    l.resources = { ...l.resources, devices: [...ALL_DEVICES_ALLOWED] };
  }
}

/**
 * customopts.WithPodNamespaces: net, ipc and uts are always the pause container's (so a
 * host-network pod's containers are in the host's via the pause process); pid is the
 * pause's (POD, NODE) or a target container's (TARGET), or the container's own.
 */
function applyNamespaces(spec: OciSpec, input: ContainerSpecInput): void {
  const sc = input.config.linux?.securityContext;
  const ns = sc?.namespaceOptions;
  let targetPid = input.sandboxPid;
  if (ns?.pid === NamespaceMode.TARGET) {
    if (input.targetPid === undefined) throw invalidArgument(`invalid target container: "${ns.targetId}" has no running process`);
    targetPid = input.targetPid;
  }
  const maps = parseUsernsIds(ns?.usernsOptions);
  const podUserns = input.sandboxConfig.linux?.securityContext?.namespaceOptions?.usernsOptions;
  if (!sameUsernsConfig(podUserns, ns?.usernsOptions))
    throw invalidArgument("user namespace config for sandbox is different from container");

  const pid = input.sandboxPid;
  const l = spec.linux!;
  let list = l.namespaces ?? [];
  list = withNamespace(list, { type: "network", path: nsPathOf(pid, "net") });
  list = withNamespace(list, { type: "ipc", path: nsPathOf(pid, "ipc") });
  list = withNamespace(list, { type: "uts", path: nsPathOf(pid, "uts") });
  if (ns?.pid !== NamespaceMode.CONTAINER) list = withNamespace(list, { type: "pid", path: nsPathOf(targetPid, "pid") });
  if (ns?.usernsOptions?.mode === NamespaceMode.POD && maps) {
    list = withNamespace(list, { type: "user", path: nsPathOf(pid, "user") });
    l.uidMappings = [...(l.uidMappings ?? []), ...maps.uids];
    l.gidMappings = [...(l.gidMappings ?? []), ...maps.gids];
  }
  l.namespaces = list;
}

/**
 * platformSpecOpts + containerSpecOpts: the user from run_as_username / run_as_user /
 * run_as_group, else the image's USER, resolved against the image's passwd and group;
 * then (policy Merge) the groups /etc/group lists the user in, and the pod's
 * supplementary groups.
 */
function applyUser(spec: OciSpec, input: ContainerSpecInput, supplementalGroups: number[]): void {
  const sc: Partial<LinuxContainerSecurityContext> = input.config.linux?.securityContext ?? {};
  const files = input.userFiles ?? {};
  const p = spec.process!;
  const userstr =
    generateUserString(sc.runAsUsername ?? "", sc.runAsUser?.value, sc.runAsGroup?.value) || (input.imageConfig.User ?? "");
  if (userstr !== "") p.user = resolveUser(userstr, files);

  let member = "0";
  if (sc.runAsUsername) member = sc.runAsUsername;
  else if (sc.runAsUser) member = sc.runAsUser.value.toString();
  else if (input.imageConfig.User) member = input.imageConfig.User.split(":")[0]!;
  switch (sc.supplementalGroupsPolicy ?? SupplementalGroupsPolicy.Merge) {
    case SupplementalGroupsPolicy.Merge:
      p.user.additionalGids = mergeGids(memberGids(member, p.user.gid, files), p.user.additionalGids);
      break;
    case SupplementalGroupsPolicy.Strict:
      break;
    default:
      throw invalidArgument(`not implemented: SupplementalGroupsPolicy=${sc.supplementalGroupsPolicy}`);
  }
  p.user.additionalGids = mergeGids(p.user.additionalGids, supplementalGroups);
}
