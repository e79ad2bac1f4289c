// Container mounts (customopts.WithMounts, linuxContainerMounts, volumeMounts): CRI bind
// mounts merged with the pod's shared files and image volumes over containerd's default
// mounts. Creating missing host paths, resolving symlinks and reading mount propagation
// are the caller's side effects; their results come in as HostPathFacts.
import { failedPrecondition, invalidArgument } from "../errors.js";
import { MountPropagation, NamespaceMode, type IDMapping, type Mount } from "../gen/runtime/v1/api_pb.js";
import { cleanPath, joinPath } from "./go-path.js";
import type { ImageConfig, OciIdMapping, OciMount } from "./spec-types.js";

type IdMap = Pick<IDMapping, "hostId" | "containerId" | "length">;

/** A CRI mount as plain data (the generated Mount minus message bookkeeping). */
export interface BindMountRequest {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  selinuxRelabel: boolean;
  propagation: MountPropagation;
  recursiveReadOnly: boolean;
  uidMappings: readonly IdMap[];
  gidMappings: readonly IdMap[];
}

export function bindMountRequest(m: Pick<Mount, keyof BindMountRequest>): BindMountRequest {
  return {
    containerPath: m.containerPath,
    hostPath: m.hostPath,
    readonly: m.readonly,
    selinuxRelabel: m.selinuxRelabel,
    propagation: m.propagation,
    recursiveReadOnly: m.recursiveReadOnly,
    uidMappings: m.uidMappings,
    gidMappings: m.gidMappings,
  };
}

/**
 * The pod's shared files on the host, as written by RunPodSandbox; a path left undefined
 * does not exist and is not mounted (containerd stats each one).
 */
export interface SandboxFiles {
  hostname?: string | undefined;
  hosts?: string | undefined;
  resolvConf?: string | undefined;
  /** The pod's /dev/shm tmpfs (absent for host-IPC pods, which get the host's /dev/shm). */
  shm?: string | undefined;
}

const isInCriMounts = (dst: string, mounts: readonly { containerPath: string }[]) =>
  mounts.some((m) => cleanPath(m.containerPath) === cleanPath(dst));

function fileMount(containerPath: string, hostPath: string, readonly: boolean, relabel: boolean, userns?: UsernsMaps): BindMountRequest {
  return {
    containerPath,
    hostPath,
    readonly,
    selinuxRelabel: relabel,
    propagation: MountPropagation.PROPAGATION_PRIVATE,
    recursiveReadOnly: false,
    uidMappings: userns?.uids ?? [],
    gidMappings: userns?.gids ?? [],
  };
}

interface UsernsMaps {
  uids: readonly IdMap[];
  gids: readonly IdMap[];
}

/**
 * /etc/hostname, /etc/hosts, /etc/resolv.conf and /dev/shm from the pod, unless the
 * container mounts something at that path itself. They are read-only exactly when the
 * container's rootfs is; /dev/shm is always writable.
 */
export function sandboxFileMounts(
  criMounts: readonly { containerPath: string }[],
  files: SandboxFiles,
  readonlyRootfs: boolean,
  ipcMode: NamespaceMode,
  userns?: UsernsMaps,
): BindMountRequest[] {
  const out: BindMountRequest[] = [];
  const add = (dst: string, src: string | undefined) => {
    if (src !== undefined && !isInCriMounts(dst, criMounts)) out.push(fileMount(dst, src, readonlyRootfs, true, userns));
  };
  add("/etc/hostname", files.hostname);
  add("/etc/hosts", files.hosts);
  add("/etc/resolv.conf", files.resolvConf);
  if (!isInCriMounts("/dev/shm", criMounts)) {
    const shm = ipcMode === NamespaceMode.NODE ? "/dev/shm" : files.shm;
    // idmapped tmpfs needs Linux 6.3, and host IPC with userns is refused by Kubernetes.
    if (shm !== undefined) out.push(fileMount("/dev/shm", shm, false, shm !== "/dev/shm"));
  }
  return out;
}

/**
 * Bind mounts for the image's VOLUMEs that the CRI config does not cover: an empty
 * directory under the container's root dir (containerd's volumeMounts). `newVolumeId`
 * names each directory; the caller creates them. Volumes are taken in sorted order
 * (containerd iterates a Go map, so its order is random).
 */
export function imageVolumeMounts(
  image: ImageConfig,
  criMounts: readonly { containerPath: string }[],
  containerRootDir: string,
  newVolumeId: () => string,
  userns?: UsernsMaps,
): BindMountRequest[] {
  const out: BindMountRequest[] = [];
  for (let dst of Object.keys(image.Volumes ?? {}).sort()) {
    if (isInCriMounts(dst, criMounts)) continue;
    if (!dst.startsWith("/")) dst = joinPath("/", dst);
    out.push(fileMount(dst, joinPath(containerRootDir, "volumes", newVolumeId()), false, true, userns));
  }
  return out;
}

/** What the caller learned about a CRI host path: its symlink-resolved form and propagation. */
export interface HostPathFacts {
  resolvedPath?: string | undefined;
  /** Propagation of the mount the path lives on; checked for rshared / rslave requests. */
  propagation?: "shared" | "slave" | "private" | undefined;
}

export interface MountSettings {
  cgroupWritable: boolean;
  /** Host /sys/fs/cgroup options to keep without a cgroup namespace (nsdelegate, memory_recursiveprot). */
  hostCgroupMountOptions: readonly string[];
  hasCgroupNamespace: boolean;
  recursiveReadOnlyMounts: boolean;
  hostPaths: Readonly<Record<string, HostPathFacts>>;
}

export interface ContainerMounts {
  mounts: OciMount[];
  rootfsPropagation?: string | undefined;
}

const toIdMaps = (m: readonly IdMap[]): OciIdMapping[] | undefined =>
  m.length === 0 ? undefined : m.map((x) => ({ hostID: x.hostId, containerID: x.containerId, size: x.length }));

const depth = (m: { containerPath: string }) => (cleanPath(m.containerPath).match(/\//g) ?? []).length;

/**
 * The spec's mounts: the default mounts plus /sys/fs/cgroup, minus every destination a
 * bind mount takes over (and all of /dev/* when /dev itself is bound), then the bind
 * mounts ordered by depth so a mount never hides a deeper one.
 */
export function containerMounts(
  defaults: readonly OciMount[],
  criMounts: readonly BindMountRequest[],
  extraMounts: readonly BindMountRequest[],
  settings: MountSettings,
): ContainerMounts {
  const binds = [...criMounts, ...extraMounts.filter((e) => !isInCriMounts(e.containerPath, criMounts))];
  binds.sort((a, b) => depth(a) - depth(b)); // Array.prototype.sort is stable, like sort.Stable

  const cgroupOptions = ["nosuid", "noexec", "nodev", "relatime", settings.cgroupWritable ? "rw" : "ro"];
  if (!settings.hasCgroupNamespace)
    cgroupOptions.push(...settings.hostCgroupMountOptions.filter((o) => o === "nsdelegate" || o === "memory_recursiveprot"));
  const base = [...defaults, { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: cgroupOptions }];

  const taken = new Set(binds.map((m) => cleanPath(m.containerPath)));
  const mounts: OciMount[] = base.filter((m) => {
    const dst = cleanPath(m.destination);
    return !taken.has(dst) && !(taken.has("/dev") && dst.startsWith("/dev/"));
  });

  let rootfsPropagation: string | undefined;
  for (const m of binds) {
    // The request is checked before the host's mount propagation: a wrong request is
    // INVALID_ARGUMENT whatever the host looks like (containerd checks the host first).
    if (m.recursiveReadOnly) checkRecursiveReadOnly(m, settings.recursiveReadOnlyMounts);
    const facts = settings.hostPaths[m.hostPath];
    const src = facts?.resolvedPath ?? m.hostPath;
    const options = ["rbind"];
    switch (m.propagation) {
      case MountPropagation.PROPAGATION_PRIVATE:
        // runc's default root propagation is rprivate already.
        options.push("rprivate");
        break;
      case MountPropagation.PROPAGATION_BIDIRECTIONAL:
        if (facts?.propagation !== undefined && facts.propagation !== "shared")
          throw failedPrecondition(`path "${src}" is mounted on a mount that is not a shared mount`);
        options.push("rshared");
        rootfsPropagation = "rshared";
        break;
      case MountPropagation.PROPAGATION_HOST_TO_CONTAINER:
        if (facts?.propagation === "private")
          throw failedPrecondition(`path "${src}" is mounted on a mount that is not a shared or slave mount`);
        options.push("rslave");
        if (rootfsPropagation !== "rshared" && rootfsPropagation !== "rslave") rootfsPropagation = "rslave";
        break;
      default:
        options.push("rprivate");
    }
    // A readonly rootfs does not make the bind mounts readonly (unlike Docker).
    if (m.readonly) options.push(m.recursiveReadOnly ? "rro" : "ro");
    else options.push("rw");
    const mount: OciMount = { destination: m.containerPath, type: "bind", source: src, options };
    const uidMappings = toIdMaps(m.uidMappings);
    const gidMappings = toIdMaps(m.gidMappings);
    if (uidMappings) mount.uidMappings = uidMappings;
    if (gidMappings) mount.gidMappings = gidMappings;
    mounts.push(mount);
  }
  return { mounts, rootfsPropagation };
}

/**
 * A recursive read-only mount must be readonly with private propagation, on a handler that
 * supports it (RuntimeHandlerFeatures.recursive_read_only_mounts); containerd's errors.
 */
function checkRecursiveReadOnly(m: BindMountRequest, supported: boolean): void {
  if (!m.readonly) throw invalidArgument(`recursive read-only mount conflicts with RW mount (hostPath="${m.hostPath}")`);
  if (!supported) throw invalidArgument(`runtime handler does not support recursive read-only mounts (hostPath="${m.hostPath}")`);
  if (m.propagation !== MountPropagation.PROPAGATION_PRIVATE)
    throw invalidArgument(
      `recursive read-only mount needs private propagation, got "${MountPropagation[m.propagation]}" (hostPath="${m.hostPath}")`,
    );
}

/** oci.WithWriteableSysfs + WithWriteableCgroupfs for privileged containers. */
export function writableSysfsAndCgroupfs(mounts: readonly OciMount[]): OciMount[] {
  return mounts.map((m) =>
    m.type === "sysfs" || m.type === "cgroup" ? { ...m, options: m.options?.map((o) => (o === "ro" ? "rw" : o)) } : m,
  );
}
