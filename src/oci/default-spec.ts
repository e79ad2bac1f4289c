// containerd's default Linux spec (pkg/oci populateDefaultUnixSpec + defaultMounts), the
// base every CRI sandbox and container spec starts from before the CRI options apply.
import type { OciMount, OciNamespace, OciSpec } from "./spec-types.js";
import { OCI_VERSION } from "./spec-types.js";

/** containerd's namespace for CRI objects; also the first element of the default cgroups path. */
export const CRI_CONTAINERD_NAMESPACE = "k8s.io";

/**
 * containerd's defaultUnixCaps: the capability set a non-privileged CRI container gets
 * before the security context adds or drops any (Docker's historical default set).
 */
export const DEFAULT_UNIX_CAPS: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  "/proc/scsi",
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** PATH a container gets when neither the image nor the CRI config sets one. */
export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function defaultMounts(): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
  ];
}

export function defaultNamespaces(): OciNamespace[] {
  return [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network" }];
}

/**
 * A fresh copy of containerd's default spec for container `id` in containerd namespace
 * `namespace`. Without a cgroup parent the cgroups path stays "/<namespace>/<id>".
 */
export function defaultLinuxSpec(id: string, namespace = CRI_CONTAINERD_NAMESPACE): OciSpec {
  return {
    ociVersion: OCI_VERSION,
    root: { path: "rootfs" },
    process: {
      cwd: "/",
      noNewPrivileges: true,
      user: { uid: 0, gid: 0 },
      capabilities: {
        bounding: [...DEFAULT_UNIX_CAPS],
        permitted: [...DEFAULT_UNIX_CAPS],
        effective: [...DEFAULT_UNIX_CAPS],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    },
    mounts: defaultMounts(),
    linux: {
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      cgroupsPath: `/${namespace}/${id}`,
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: defaultNamespaces(),
    },
  };
}

/**
 * What both CRI specs do first (oci.WithoutRunMount + WithoutDefaultSecuritySettings):
 * no /run tmpfs, no rlimits (containerd/cri#515), no seccomp or AppArmor until the
 * security context asks for one.
 */
export function criBaseSpec(id: string, namespace = CRI_CONTAINERD_NAMESPACE): OciSpec {
  const spec = defaultLinuxSpec(id, namespace);
  spec.mounts = spec.mounts!.filter((m) => m.destination !== "/run");
  delete spec.process!.rlimits;
  return spec;
}
