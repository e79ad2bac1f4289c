// Capability sets from the CRI security context (customopts.WithCapabilities and the
// oci.With*Capabilities helpers it composes).
import type { Capability } from "../gen/runtime/v1/api_pb.js";
import type { OciCapabilities } from "./spec-types.js";

/** Capability names by bit number, up to CAP_CHECKPOINT_RESTORE (containerd's cap.Known()). */
export const KNOWN_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/**
 * The known capabilities in a /proc/<pid>/status mask such as the CapEff line's
 * "000001ffffffffff" (how containerd's cap.Current() builds the privileged set).
 */
export function capabilitiesFromMask(hexMask: string): string[] {
  const mask = BigInt("0x" + hexMask.trim());
  return KNOWN_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

function withCapabilities(caps: OciCapabilities, set: readonly string[]): OciCapabilities {
  const next: OciCapabilities = { ...caps, bounding: [...set], effective: [...set], permitted: [...set] };
  if (set.length === 0) delete next.inheritable;
  else if (next.inheritable) next.inheritable = next.inheritable.filter((c) => set.includes(c));
  return next;
}

const isAll = (c: string) => c.toUpperCase() === "ALL";

/**
 * Applies CRI add/drop capabilities. "ALL" in add starts from every host capability,
 * "ALL" in drop from none; the other entries then add or drop one by one, so
 * add [ALL] + drop [CHOWN] is everything but CAP_CHOWN. Names get the "CAP_" prefix the
 * CRI leaves out (containerd adds it unconditionally, as here).
 */
export function applyCriCapabilities(
  caps: OciCapabilities,
  cri: Pick<Capability, "addCapabilities" | "dropCapabilities"> | undefined,
  allCaps: readonly string[],
): OciCapabilities {
  if (!cri) return caps;
  let next: OciCapabilities = { ...caps };
  if (cri.addCapabilities.some(isAll)) next = withCapabilities(next, allCaps);
  if (cri.dropCapabilities.some(isAll)) next = withCapabilities(next, []);
  for (const c of cri.addCapabilities) {
    if (isAll(c)) continue;
    const name = "CAP_" + c.toUpperCase();
    for (const set of ["bounding", "effective", "permitted"] as const) {
      const list = next[set] ?? [];
      if (!list.includes(name)) next[set] = [...list, name];
    }
  }
  for (const c of cri.dropCapabilities) {
    if (isAll(c)) continue;
    const name = "CAP_" + c.toUpperCase();
    for (const set of ["bounding", "effective", "permitted", "inheritable"] as const) {
      if (next[set]) next[set] = next[set]!.filter((x) => x !== name);
    }
  }
  return next;
}

/** oci.WithAllCurrentCapabilities, the capability half of a privileged container. */
export function allCapabilities(caps: OciCapabilities, hostCaps: readonly string[]): OciCapabilities {
  return withCapabilities(caps, hostCaps);
}

