// The host facts and CRI plugin settings that change the generated specs. containerd
// reads these from its config and the host at start; crib's edges do the same and pass
// them in, so the translation stays pure. Defaults are containerd 2.1's defaults.
import { CRI_CONTAINERD_NAMESPACE } from "./default-spec.js";
import { KNOWN_CAPABILITIES } from "./capabilities.js";

/** Go's GOARCH names, which pick the seccomp architectures and per-arch syscalls. */
export type GoArch = "amd64" | "386" | "arm64" | "arm" | "s390x" | "ppc64le" | "riscv64" | "mips64" | "mips64le";

export interface SpecOptions {
  /** containerd namespace, the default cgroups path prefix ("/k8s.io/<id>"). */
  namespace: string;
  /** restrict_oom_score_adj: never go below crib's own oom_score_adj. */
  restrictOOMScoreAdj: boolean;
  /** crib's /proc/self/oom_score_adj, used with restrictOOMScoreAdj. */
  currentOOMScoreAdj: number;
  /** Effective capabilities of crib (containerd's cap.Current()): "ALL" and privileged. */
  hostCapabilities: readonly string[];
  /** Kernel seccomp support (containerd: seccomp.IsEnabled()). */
  seccompEnabled: boolean;
  /** AppArmor enabled on the host (containerd: apparmor.HostSupports()). */
  apparmorEnabled: boolean;
  /** Loaded AppArmor profiles; when given, a Localhost profile must be among them. */
  loadedApparmorProfiles?: readonly string[] | undefined;
  /** unset_seccomp_profile: the profile used when the CRI sets none ("" = unconfined). */
  unsetSeccompProfile: string;
  /** cgroup v2 unified mode: non-privileged containers get a cgroup namespace. */
  cgroupV2: boolean;
  /** The memsw (v1) or swap (v2) controller exists: a memory limit also caps swap. */
  swapControllerAvailable: boolean;
  hugetlbControllerPresent: boolean;
  disableHugetlbController: boolean;
  tolerateMissingHugetlbController: boolean;
  /** disable_proc_mount: keep containerd's default masked/readonly paths. */
  disableProcMount: boolean;
  enableUnprivilegedPorts: boolean;
  enableUnprivilegedICMP: boolean;
  /** crib itself runs in a user namespace (no ping_group_range then). */
  runningInUserNS: boolean;
  deviceOwnershipFromSecurityContext: boolean;
  arch: GoArch;
  /** Kernel >= 4.8: ptrace is safe to allow in the default seccomp profile. */
  kernelAtLeast4_8: boolean;

  // Per runtime handler ([plugins."io.containerd.cri.v1.runtime".containerd.runtimes.*]).
  /** pod_annotations: glob patterns of pod annotations passed into the OCI spec. */
  podAnnotations: readonly string[];
  /** container_annotations: same for container annotations. */
  containerAnnotations: readonly string[];
  privilegedWithoutHostDevices: boolean;
  privilegedWithoutHostDevicesAllDevicesAllowed: boolean;
  /** cgroup_writable: /sys/fs/cgroup mounted rw. */
  cgroupWritable: boolean;
  /** The handler supports recursive read-only mounts (RuntimeHandlerFeatures). */
  recursiveReadOnlyMounts: boolean;
}

export const DEFAULT_SPEC_OPTIONS: Readonly<SpecOptions> = {
  namespace: CRI_CONTAINERD_NAMESPACE,
  restrictOOMScoreAdj: false,
  currentOOMScoreAdj: 0,
  hostCapabilities: KNOWN_CAPABILITIES,
  seccompEnabled: true,
  apparmorEnabled: false,
  unsetSeccompProfile: "",
  cgroupV2: false,
  swapControllerAvailable: false,
  hugetlbControllerPresent: true,
  disableHugetlbController: true,
  tolerateMissingHugetlbController: true,
  disableProcMount: false,
  enableUnprivilegedPorts: true,
  enableUnprivilegedICMP: true,
  runningInUserNS: false,
  deviceOwnershipFromSecurityContext: false,
  arch: "amd64",
  kernelAtLeast4_8: true,
  podAnnotations: [],
  containerAnnotations: [],
  privilegedWithoutHostDevices: false,
  privilegedWithoutHostDevicesAllDevicesAllowed: false,
  cgroupWritable: false,
  recursiveReadOnlyMounts: false,
};

export function specOptions(partial: Partial<SpecOptions> = {}): SpecOptions {
  const out: SpecOptions = { ...DEFAULT_SPEC_OPTIONS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/** Maps Node's process.arch to Go's GOARCH. */
export function goArchOf(nodeArch: string): GoArch {
  const map: Record<string, GoArch> = {
    x64: "amd64",
    ia32: "386",
    arm64: "arm64",
    arm: "arm",
    s390x: "s390x",
    ppc64: "ppc64le",
    riscv64: "riscv64",
    mips: "mips64",
    mipsel: "mips64le",
  };
  return map[nodeArch] ?? "amd64";
}
