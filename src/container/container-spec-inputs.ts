// The side effects behind a container's spec, done here so buildContainerSpec stays pure:
// the image's passwd/group from the snapshot, the pod's shared files, device nodes, CRI
// mount host paths (created when missing, symlinks resolved, propagation looked up),
// Localhost seccomp profiles, image volume dirs, the pid of a target container and the
// host facts. containerd does the same work inside its spec options.
import { randomBytes } from "node:crypto";
import { access, lstat, mkdir, readdir, readFile, realpath } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { ContainerState, MountPropagation, NamespaceMode, type ContainerConfig, type PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { invalidArgument, wrap } from "../errors.js";
import { parseMountInfo, type MountInfo } from "../network/netns.js";
import type { ContainerSpecInput } from "../oci/container-spec.js";
import { deviceNodeFromStat, type DeviceNode } from "../oci/devices.js";
import { imageVolumeMounts, type BindMountRequest, type HostPathFacts, type SandboxFiles } from "../oci/mounts.js";
import { specOptions } from "../oci/spec-options.js";
import type { OciDevice } from "../oci/spec-types.js";
import type { ContainerPod } from "./pod-lookup.js";
import type { LocalImage } from "../common/deps.js";
import type { ContainerContext } from "./container-context.js";
import { specHostFacts } from "../oci/spec-host-facts.js";
import type { ImageUserFiles } from "./image-user-files.js";
import { readSeccompProfiles } from "../oci/seccomp-profile-files.js";
import { resolveRuntimeHandler } from "../containerd/runtime-options.js";

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Directories containerd's getDevices skips when walking a device directory. */
const SKIPPED_DEVICE_DIRS = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);

/** Device nodes at a path: the node itself, or every node below a directory. */
export async function deviceNodesAt(hostPath: string): Promise<DeviceNode[]> {
  const real = await realpath(hostPath);
  const st = await lstat(real);
  if (!st.isDirectory()) {
    const n = deviceNodeFromStat("", st);
    return n ? [n] : [];
  }
  const out: DeviceNode[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIPPED_DEVICE_DIRS.has(e.name)) await walk(join(dir, e.name), r);
        continue;
      }
      if (e.isFIFO()) continue;
      const n = deviceNodeFromStat(r, await lstat(join(dir, e.name)).catch(() => ({ mode: 0, rdev: 0, uid: 0, gid: 0 })));
      if (n) out.push(n);
    }
  };
  await walk(real, "");
  return out;
}

/** The mount a path lives on: the deepest mount point that contains it (the last one mounted wins). */
export function mountContaining(mounts: readonly MountInfo[], path: string): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const p = m.mountPoint;
    const inside = path === p || p === "/" || path.startsWith(p.endsWith("/") ? p : `${p}/`);
    if (inside && (!best || p.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

export function propagationOf(m: MountInfo | undefined): HostPathFacts["propagation"] {
  if (!m) return undefined;
  if (m.optionalFields.some((f) => f.startsWith("shared:"))) return "shared";
  if (m.optionalFields.some((f) => f.startsWith("master:"))) return "slave";
  return "private";
}

/** CRI mounts must name an absolute container path and a host path. */
export function validateCriMounts(config: ContainerConfig): void {
  for (const m of config.mounts) {
    if (m.hostPath === "") throw invalidArgument(`mount for container path "${m.containerPath}" has no host path`);
    if (!m.containerPath.startsWith("/")) throw invalidArgument(`mount container path "${m.containerPath}" is not absolute`);
  }
}

/** containerd's WithMounts: a missing host path becomes a directory; symlinks resolve. */
async function hostPathFacts(config: ContainerConfig): Promise<Record<string, HostPathFacts>> {
  const facts: Record<string, HostPathFacts> = {};
  let mountInfo: MountInfo[] | undefined;
  for (const m of config.mounts) {
    if (!(await exists(m.hostPath))) {
      await mkdir(m.hostPath, { recursive: true, mode: 0o755 }).catch((e) => {
        throw wrap(e, `failed to mkdir "${m.hostPath}"`);
      });
    }
    const resolved = await realpath(m.hostPath).catch((e) => {
      throw wrap(e, `failed to resolve symlink "${m.hostPath}"`);
    });
    const f: HostPathFacts = { resolvedPath: resolved };
    if (m.propagation === MountPropagation.PROPAGATION_BIDIRECTIONAL || m.propagation === MountPropagation.PROPAGATION_HOST_TO_CONTAINER) {
      mountInfo ??= parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
      f.propagation = propagationOf(mountContaining(mountInfo, resolved));
    }
    facts[m.hostPath] = f;
  }
  return facts;
}

/**
 * The pod's shared files that exist. containerd's CRI stats them for every container; crib
 * for a pod's first one: RunPodSandbox made them and only RemovePodSandbox takes them away,
 * and four stats are four threadpool round trips and promises per CreateContainer.
 */
async function sandboxFiles(ctx: ContainerContext, sandboxId: string, sandboxConfig: PodSandboxConfig): Promise<SandboxFiles> {
  const p = ctx.state.sandboxes.sharedFiles(sandboxId, sandboxConfig);
  // The paths are in the key: a request's pod config may put shm elsewhere (host IPC).
  const key = `${sandboxId}\0${p.hostname}\0${p.hosts}\0${p.resolvConf}\0${p.shm}`;
  const known = ctx.podFiles.get(key);
  if (known) return known;
  const files: SandboxFiles = {};
  // Asked together: each is a threadpool round trip.
  const [hostname, hosts, resolvConf, shm] = await Promise.all([exists(p.hostname), exists(p.hosts), exists(p.resolvConf), p.shm !== "/dev/shm" && exists(p.shm)]);
  if (hostname) files.hostname = p.hostname;
  if (hosts) files.hosts = p.hosts;
  if (resolvConf) files.resolvConf = p.resolvConf;
  if (shm) files.shm = p.shm;
  ctx.podFiles.set(key, files);
  return files;
}

/** oci.HostDevices: every device node of the host's /dev, for privileged containers. */
async function hostDevices(): Promise<OciDevice[]> {
  return (await deviceNodesAt("/dev")).map((n) => ({
    type: n.type,
    path: `/dev/${n.relPath}`,
    major: n.major,
    minor: n.minor,
    fileMode: n.fileMode,
    uid: n.uid,
    gid: n.gid,
  }));
}

/** The pid of the container whose pid namespace a NamespaceMode.TARGET container joins. */
function targetPid(ctx: ContainerContext, sandboxId: string, targetId: string): number {
  const t = ctx.containers.find(targetId);
  if (!t) throw invalidArgument(`invalid target container: container "${targetId}" does not exist`);
  if (t.meta.sandboxId !== sandboxId)
    throw invalidArgument(`invalid target container: container "${targetId}" (sandbox ${t.meta.sandboxId}) does not belong to sandbox ${sandboxId}`);
  if (t.state !== ContainerState.CONTAINER_RUNNING) throw invalidArgument(`invalid target container: container "${targetId}" is not running`);
  return t.status.pid;
}

export interface SpecInputArgs {
  id: string;
  config: ContainerConfig;
  sandbox: ContainerPod;
  sandboxConfig: PodSandboxConfig;
  image: LocalImage;
  /** The image's passwd and group (read from the container's snapshot or remembered). */
  userFiles: Promise<ImageUserFiles>;
  /** The container's persistent dir (image volumes go under it). */
  containerRootDir: string;
}

/** The pod's runtime handler's features that change the spec (containerd passes the handler to WithMounts). */
function handlerSpecFacts(ctx: ContainerContext, sandbox: ContainerPod): { recursiveReadOnlyMounts: boolean } {
  const { name } = resolveRuntimeHandler(ctx.deps.config, sandbox.meta.runtimeHandler);
  return { recursiveReadOnlyMounts: ctx.deps.handlerFeatures[name]?.recursiveReadOnlyMounts ?? false };
}

export async function gatherSpecInputs(ctx: ContainerContext, a: SpecInputArgs): Promise<ContainerSpecInput> {
  const { config } = a;
  const sc = config.linux?.securityContext;
  const privileged = sc?.privileged ?? false;
  const facts = { ...(await specHostFacts(ctx.deps.config, ctx.deps.ownOOMScoreAdj)), ...handlerSpecFacts(ctx, a.sandbox) };
  const options = specOptions(facts);

  const deviceNodes: Record<string, DeviceNode[]> = {};
  for (const d of config.devices) {
    deviceNodes[d.hostPath] = await deviceNodesAt(d.hostPath).catch(() => []);
  }
  const seccompProfiles = await readSeccompProfiles(
    { seccomp: sc?.seccomp, seccompProfilePath: sc?.seccompProfilePath ?? "", privileged },
    options.unsetSeccompProfile,
  );
  const extraMounts: BindMountRequest[] = imageVolumeMounts(a.image.config, config.mounts, a.containerRootDir, () => randomBytes(32).toString("hex"));
  // containerd also copies what the image has at a volume's path; crib starts it empty.
  for (const v of extraMounts) await mkdir(v.hostPath, { recursive: true, mode: 0o755 });

  // Independent file reads, asked together.
  const [sandboxFilesFound, { passwd, group }, hostPaths] = await Promise.all([sandboxFiles(ctx, a.sandbox.meta.id, a.sandboxConfig), a.userFiles, hostPathFacts(config)]);
  const input: ContainerSpecInput = {
    id: a.id,
    config,
    sandboxConfig: a.sandboxConfig,
    sandboxId: a.sandbox.meta.id,
    sandboxPid: a.sandbox.pid,
    imageConfig: a.image.config,
    imageName: a.image.name,
    nodeHostname: hostname(),
    sandboxFiles: sandboxFilesFound,
    extraMounts,
    userFiles: { passwd, group },
    deviceNodes,
    hostPaths,
    seccompProfiles,
    options: facts,
  };
  if (privileged && !options.privilegedWithoutHostDevices) input.hostDevices = await hostDevices();
  if (sc?.namespaceOptions?.pid === NamespaceMode.TARGET) input.targetPid = targetPid(ctx, a.sandbox.meta.id, sc.namespaceOptions.targetId);
  if (options.cgroupV2) input.hostCgroupMountOptions = await cgroupSuperOptions();
  return input;
}

/** The super options of the cgroup2 mount (nsdelegate, memory_recursiveprot). */
async function cgroupSuperOptions(): Promise<string[]> {
  const line = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").find((l) => l.split(" ")[4] === "/sys/fs/cgroup");
  if (!line) return [];
  const after = line.split(" - ")[1]?.split(" ") ?? [];
  return (after[2] ?? "").split(",");
}
