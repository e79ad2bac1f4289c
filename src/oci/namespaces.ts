// Linux namespaces of pause and app containers (sandboxContainerSpec's namespace options,
// customopts.WithPodNamespaces, parseUsernsIDs).
import { invalidArgument } from "../errors.js";
import { NamespaceMode, type IDMapping, type UserNamespace } from "../gen/runtime/v1/api_pb.js";
import type { OciIdMapping, OciNamespace, OciNamespaceType } from "./spec-types.js";

export const nsPathOf = (pid: number, ns: "net" | "ipc" | "uts" | "pid" | "user") => `/proc/${pid}/ns/${ns}`;

/** oci.WithLinuxNamespace: replaces the namespace of the same type in place, else appends. */
export function withNamespace(list: readonly OciNamespace[], ns: OciNamespace): OciNamespace[] {
  const i = list.findIndex((n) => n.type === ns.type);
  if (i < 0) return [...list, ns];
  const out = [...list];
  out[i] = ns;
  return out;
}

export function withoutNamespace(list: readonly OciNamespace[], type: OciNamespaceType): OciNamespace[] {
  return list.filter((n) => n.type !== type);
}

export interface UsernsMappings {
  uids: OciIdMapping[];
  gids: OciIdMapping[];
}

function parseIdMap(m: readonly Pick<IDMapping, "hostId" | "containerId" | "length">[], what: string): OciIdMapping[] {
  if (m.length === 0) return [];
  // One line only: containerd's remapped snapshots support nothing else.
  if (m.length > 1) throw invalidArgument(`user namespace configuration: ${what} mapping: only one mapping line supported, got ${m.length} mapping lines`);
  const [one] = m;
  if (one!.length < 1) throw invalidArgument(`user namespace configuration: ${what} mapping: invalid mapping length: ${one!.length}`);
  return [{ containerID: one!.containerId, hostID: one!.hostId, size: one!.length }];
}

/** Validated id mappings of a CRI user namespace option; undefined when there is none. */
export function parseUsernsIds(
  userns: Pick<UserNamespace, "mode" | "uids" | "gids"> | undefined,
): UsernsMappings | undefined {
  if (!userns) return undefined;
  const uids = parseIdMap(userns.uids, "UID");
  const gids = parseIdMap(userns.gids, "GID");
  switch (userns.mode) {
    case NamespaceMode.NODE:
      if (uids.length !== 0 || gids.length !== 0)
        throw invalidArgument(
          `user namespace configuration: can't use user namespace mode NODE with mappings. Got ${uids.length} UID mappings and ${gids.length} GID mappings`,
        );
      break;
    case NamespaceMode.POD:
      if (uids.length === 0 || gids.length === 0)
        throw invalidArgument("user namespace configuration: can't use user namespace mode POD without UID and GID mappings");
      break;
    default:
      throw invalidArgument(`user namespace configuration: unsupported user namespace mode: ${NamespaceMode[userns.mode] ?? userns.mode}`);
  }
  return { uids, gids };
}

/** Same user namespace settings for pod and container (containerd's sameUsernsConfig). */
export function sameUsernsConfig(
  a: Pick<UserNamespace, "mode" | "uids" | "gids"> | undefined,
  b: Pick<UserNamespace, "mode" | "uids" | "gids"> | undefined,
): boolean {
  if (!a || !b) return !a && !b;
  const key = (u: Pick<UserNamespace, "mode" | "uids" | "gids">) =>
    JSON.stringify([u.mode, u.uids.map((m) => [m.hostId, m.containerId, m.length]), u.gids.map((m) => [m.hostId, m.containerId, m.length])]);
  return key(a) === key(b);
}
