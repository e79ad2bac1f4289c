// Process user resolution against the image's /etc/passwd and /etc/group, as containerd's
// oci.WithUser / WithUserID / WithUsername / WithAdditionalGIDs do it against the
// container's snapshot. The file contents are inputs (undefined = the file is absent);
// reading them from the snapshot is the caller's job.
import { invalidArgument } from "../errors.js";
import type { OciUser } from "./spec-types.js";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** /etc/passwd and /etc/group of the image; undefined when the image has no such file. */
export interface UserFiles {
  passwd?: string | undefined;
  group?: string | undefined;
}

const MAX_ID = 2 ** 31 - 1; // runc requires ids <= MaxInt32, and containerd follows it

function fields(text: string): string[][] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
}

// moby/sys/user parses unparsable numbers as 0.
const atoi = (s: string | undefined) => (s !== undefined && /^[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : 0);

export function parsePasswd(text: string): PasswdEntry[] {
  return fields(text).map((f) => ({ name: f[0] ?? "", uid: atoi(f[2]), gid: atoi(f[3]), home: f[5] ?? "" }));
}

export function parseGroup(text: string): GroupEntry[] {
  return fields(text).map((f) => ({
    name: f[0] ?? "",
    gid: atoi(f[2]),
    members: f[3] ? f[3].split(",") : [],
  }));
}

/**
 * The OCI user string for a CRI security context (util.GenerateUserString): a username
 * wins over a uid, a gid is appended as ":gid", and a gid alone is an error.
 */
export function generateUserString(username: string, uid?: bigint, gid?: bigint): string {
  let user = uid !== undefined ? uid.toString() : "";
  if (username !== "") user = username;
  const group = gid !== undefined ? gid.toString() : "";
  if (user === "") {
    if (group !== "") throw invalidArgument(`user group "${group}" is specified without user`);
    return "";
  }
  return group === "" ? user : `${user}:${group}`;
}

type IdPart = { id: number } | { name: string };

function parseIdPart(part: string, kind: "uid" | "gid", userstr: string): IdPart {
  if (!/^[+-]?\d+$/.test(part)) return { name: part };
  const v = BigInt(part);
  if (v < 0n || v > BigInt(MAX_ID)) throw invalidArgument(`invalid USER value "${userstr}": ${kind} out of range`);
  return { id: Number(v) };
}

function findUser(files: UserFiles, match: (u: PasswdEntry) => boolean): PasswdEntry | undefined {
  return files.passwd === undefined ? undefined : parsePasswd(files.passwd).find(match);
}

function requireUserByName(files: UserFiles, name: string): PasswdEntry {
  if (files.passwd === undefined) throw invalidArgument(`unable to find user ${name}: image has no /etc/passwd`);
  const u = findUser(files, (e) => e.name === name);
  if (!u) throw invalidArgument(`unable to find user ${name}: no matching entries in passwd file`);
  return u;
}

function requireGroupByName(files: UserFiles, name: string): number {
  if (files.group === undefined) throw invalidArgument(`unable to find group ${name}: image has no /etc/group`);
  const g = parseGroup(files.group).find((e) => e.name === name);
  if (!g) throw invalidArgument(`unable to find group ${name}: no matching entries in group file`);
  return g.gid;
}

/**
 * oci.WithUser: resolves "user", "uid", "user:group", "uid:gid", "uid:group" or
 * "user:gid". A bare uid unknown to /etc/passwd runs with gid 0; a name must exist.
 * additionalGids restart as [gid] (containerd's ensureAdditionalGids, the CVE-2023-25173
 * fix that keeps the primary group in the supplementary list).
 */
export function resolveUser(userstr: string, files: UserFiles): OciUser {
  const parts = userstr.split(":");
  let uid = 0;
  let gid = 0;
  if (parts.length === 1) {
    const u = parseIdPart(parts[0]!, "uid", userstr);
    if ("id" in u) {
      const entry = findUser(files, (e) => e.uid === u.id);
      uid = u.id;
      gid = entry ? entry.gid : 0;
    } else {
      const entry = requireUserByName(files, u.name);
      uid = entry.uid;
      gid = entry.gid;
    }
  } else if (parts.length === 2) {
    const u = parseIdPart(parts[0]!, "uid", userstr);
    const g = parseIdPart(parts[1]!, "gid", userstr);
    // An empty side ("", as in ":1000") keeps its default of 0, as in containerd.
    uid = "id" in u ? u.id : u.name === "" ? 0 : requireUserByName(files, u.name).uid;
    gid = "id" in g ? g.id : g.name === "" ? 0 : requireGroupByName(files, g.name);
  } else {
    throw invalidArgument(`invalid USER value ${userstr}`);
  }
  return { uid, gid, additionalGids: [gid] };
}

/**
 * oci.WithAdditionalGIDs: the groups of /etc/group that list the user as a member (not
 * counting a group named like the user), plus the primary gid. `userstr` is a uid or a
 * name; a uid unknown to /etc/passwd contributes no groups.
 */
export function memberGids(userstr: string, primaryGid: number, files: UserFiles): number[] {
  let username = userstr;
  if (/^[+-]?\d+$/.test(userstr)) {
    const uid = Number(userstr);
    const entry = findUser(files, (e) => e.uid === uid);
    if (!entry) return [primaryGid];
    username = entry.name;
  }
  const gids =
    files.group === undefined
      ? []
      : parseGroup(files.group)
          .filter((g) => g.name !== username && g.members.includes(username))
          .map((g) => g.gid);
  return gids.includes(primaryGid) ? gids : [primaryGid, ...gids];
}

/** customopts.mergeGids: union, sorted ascending; undefined (Go's nil) when empty. */
export function mergeGids(a: readonly number[] | undefined, b: readonly number[] | undefined): number[] | undefined {
  const all = [...new Set([...(a ?? []), ...(b ?? [])])].sort((x, y) => x - y);
  return all.length === 0 ? undefined : all;
}

export function int64sToGids(groups: readonly bigint[]): number[] {
  return groups.map((g) => Number(BigInt.asUintN(32, g)));
}
