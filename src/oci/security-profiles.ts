// Seccomp and AppArmor from a CRI security context (internal/cri/sputil). The legacy
// string fields (seccomp_profile_path, apparmor_profile) are honoured when the structured
// SecurityProfile is absent, as containerd does.
import { failedPrecondition, invalidArgument } from "../errors.js";
import { SecurityProfile_ProfileType as ProfileType, type SecurityProfile } from "../gen/runtime/v1/api_pb.js";
import { defaultSeccompProfile, type DefaultSeccompHost } from "./seccomp-default.js";
import type { OciSeccomp, OciSeccompArg, OciSyscall } from "./spec-types.js";

/** Name of the AppArmor profile containerd loads for RuntimeDefault. */
export const APPARMOR_DEFAULT_PROFILE = "cri-containerd.apparmor.d";
const LOCALHOST_PREFIX = "localhost/";

type Profile = Pick<SecurityProfile, "profileType" | "localhostRef">;

/** sputil.generateSecurityProfile for the legacy string form. */
function profileFromString(s: string): Profile {
  switch (s) {
    case "runtime/default":
    case "docker/default":
    case "":
      return { profileType: ProfileType.RuntimeDefault, localhostRef: "" };
    case "unconfined":
      return { profileType: ProfileType.Unconfined, localhostRef: "" };
    default:
      if (!s.startsWith(LOCALHOST_PREFIX)) throw invalidArgument(`invalid profile "${s}"`);
      return { profileType: ProfileType.Localhost, localhostRef: s.slice(LOCALHOST_PREFIX.length) };
  }
}

export interface SeccompContext {
  seccomp?: Profile | undefined;
  seccompProfilePath: string;
  privileged: boolean;
}

export interface SeccompSettings extends DefaultSeccompHost {
  seccompEnabled: boolean;
  unsetSeccompProfile: string;
}

/** The profile a context asks for; undefined means none at all (unconfined). */
function requestedSeccomp(sc: SeccompContext, unsetProfile: string): Profile | undefined {
  if (sc.seccomp) return sc.seccomp;
  if (sc.seccompProfilePath !== "") return profileFromString(sc.seccompProfilePath);
  if (unsetProfile !== "") return profileFromString(unsetProfile);
  return undefined;
}

const trimLocalhost = (ref: string) => (ref.startsWith(LOCALHOST_PREFIX) ? ref.slice(LOCALHOST_PREFIX.length) : ref);

/**
 * The host path of the Localhost seccomp profile a context needs, if any, so the caller
 * can read it and pass its contents to seccompFor.
 */
export function localhostSeccompPath(sc: SeccompContext, unsetProfile: string): string | undefined {
  if (sc.privileged) return undefined;
  const p = requestedSeccomp(sc, unsetProfile);
  return p?.profileType === ProfileType.Localhost ? trimLocalhost(p.localhostRef) : undefined;
}

/**
 * The CRI requires an absolute path for a Localhost seccomp profile; containerd would read
 * a relative one from its own working directory, which no client can mean.
 */
export function requireAbsoluteProfilePath(path: string): void {
  if (!path.startsWith("/")) throw invalidArgument(`seccomp profile path "${path}" must be an absolute path on the host`);
}

/**
 * The seccomp section for a context (sputil.GenerateSeccompSpecOpts): none when
 * privileged or unconfined, containerd's default profile for RuntimeDefault, the JSON
 * file's content (`localhostProfiles[path]`) for Localhost.
 */
export function seccompFor(
  sc: SeccompContext,
  settings: SeccompSettings,
  boundingCaps: readonly string[],
  localhostProfiles: Readonly<Record<string, string>> = {},
): OciSeccomp | undefined {
  if (sc.privileged) return undefined;
  const p = requestedSeccomp(sc, settings.unsetSeccompProfile);
  if (!settings.seccompEnabled) {
    if (p && p.profileType !== ProfileType.Unconfined) throw failedPrecondition("seccomp is not supported");
    return undefined;
  }
  if (!p) return undefined;
  if (p.profileType !== ProfileType.Localhost && p.localhostRef !== "")
    throw invalidArgument("seccomp config invalid LocalhostRef must only be set if ProfileType is Localhost");
  switch (p.profileType) {
    case ProfileType.Unconfined:
      return undefined;
    case ProfileType.RuntimeDefault:
      return defaultSeccompProfile(boundingCaps, settings);
    case ProfileType.Localhost: {
      const path = trimLocalhost(p.localhostRef);
      requireAbsoluteProfilePath(path);
      const text = localhostProfiles[path];
      if (text === undefined) throw invalidArgument(`cannot load seccomp profile "${path}": not found`);
      return parseSeccompProfile(text, path);
    }
    default:
      throw invalidArgument("seccomp unknown ProfileType");
  }
}

/**
 * A seccomp profile file decoded the way Go's encoding/json fills specs.LinuxSeccomp:
 * known fields only, keys matched case-insensitively, Docker-only fields ignored.
 */
export function parseSeccompProfile(text: string, path = "profile"): OciSeccomp {
  const fail = (why: string) => invalidArgument(`decoding seccomp profile failed "${path}": ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw fail((e as Error).message);
  }
  const obj = asObject(raw, fail);
  const out: OciSeccomp = { defaultAction: str(field(obj, "defaultAction"), fail) ?? "" };
  const errnoRet = num(field(obj, "defaultErrnoRet"), fail);
  if (errnoRet !== undefined) out.defaultErrnoRet = errnoRet;
  const arches = strs(field(obj, "architectures"), fail);
  if (arches) out.architectures = arches;
  const flags = strs(field(obj, "flags"), fail);
  if (flags) out.flags = flags;
  const listenerPath = str(field(obj, "listenerPath"), fail);
  if (listenerPath) out.listenerPath = listenerPath;
  const listenerMetadata = str(field(obj, "listenerMetadata"), fail);
  if (listenerMetadata) out.listenerMetadata = listenerMetadata;
  const syscalls = field(obj, "syscalls");
  if (syscalls !== undefined && syscalls !== null) {
    if (!Array.isArray(syscalls)) throw fail("syscalls is not an array");
    out.syscalls = syscalls.map((s) => parseSyscall(asObject(s, fail), fail));
  }
  return out;
}

type Fail = (why: string) => Error;

function parseSyscall(o: Record<string, unknown>, fail: Fail): OciSyscall {
  const sc: OciSyscall = { names: strs(field(o, "names"), fail) ?? [], action: str(field(o, "action"), fail) ?? "" };
  const errnoRet = num(field(o, "errnoRet"), fail);
  if (errnoRet !== undefined) sc.errnoRet = errnoRet;
  const args = field(o, "args");
  if (args !== undefined && args !== null) {
    if (!Array.isArray(args)) throw fail("args is not an array");
    sc.args = args.map((a): OciSeccompArg => {
      const ao = asObject(a, fail);
      const arg: OciSeccompArg = {
        index: num(field(ao, "index"), fail) ?? 0,
        value: num(field(ao, "value"), fail) ?? 0,
        op: str(field(ao, "op"), fail) ?? "",
      };
      const v2 = num(field(ao, "valueTwo"), fail);
      if (v2) arg.valueTwo = v2;
      return arg;
    });
  }
  return sc;
}

function field(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  const key = Object.keys(o).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : o[key];
}

function asObject(v: unknown, fail: Fail): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw fail("expected an object");
  return v as Record<string, unknown>;
}

function str(v: unknown, fail: Fail): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw fail(`expected a string, got ${typeof v}`);
  return v;
}

function num(v: unknown, fail: Fail): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw fail(`expected an unsigned integer, got ${String(v)}`);
  return v;
}

function strs(v: unknown, fail: Fail): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw fail("expected an array of strings");
  return v as string[];
}

export interface ApparmorContext {
  apparmor?: Profile | undefined;
  apparmorProfile: string;
  privileged: boolean;
}

export interface ApparmorSettings {
  apparmorEnabled: boolean;
  /** When given, a Localhost profile must be loaded (containerd reads /sys/kernel/security/apparmor/profiles). */
  loadedApparmorProfiles?: readonly string[] | undefined;
}

/**
 * The AppArmor profile name for a container (sputil.GenerateApparmorSpecOpts); undefined
 * for none. With AppArmor on, an unset profile means RuntimeDefault, which is
 * containerd's "cri-containerd.apparmor.d" (the caller makes sure it is loaded).
 */
export function apparmorProfileFor(ac: ApparmorContext, settings: ApparmorSettings): string | undefined {
  let p: Profile | undefined = ac.apparmor;
  if (!p && ac.apparmorProfile !== "") p = profileFromString(ac.apparmorProfile);
  if (!settings.apparmorEnabled) {
    if (p && p.profileType !== ProfileType.Unconfined) throw failedPrecondition("apparmor is not supported");
    return undefined;
  }
  p ??= { profileType: ProfileType.RuntimeDefault, localhostRef: "" };
  if (p.profileType !== ProfileType.Localhost && p.localhostRef !== "")
    throw invalidArgument("apparmor config invalid LocalhostRef must only be set if ProfileType is Localhost");
  switch (p.profileType) {
    case ProfileType.Unconfined:
      return undefined;
    case ProfileType.RuntimeDefault:
      return ac.privileged ? undefined : APPARMOR_DEFAULT_PROFILE;
    case ProfileType.Localhost: {
      const name = trimLocalhost(p.localhostRef);
      if (name === "") throw invalidArgument("nil apparmor profile is not supported");
      if (settings.loadedApparmorProfiles && !settings.loadedApparmorProfiles.includes(name))
        throw invalidArgument(`apparmor profile not found ${name}`);
      return name;
    }
    default:
      throw invalidArgument("apparmor unknown ProfileType");
  }
}
