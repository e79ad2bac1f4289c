// The subset of the OCI runtime spec (runtime-spec v1.2, config.json) and of the OCI
// image config that crib produces and reads. Field names are the JSON names, so a spec
// built here is read back by runc, the shim and containerd's own CRI plugin (Go's
// encoding/json ignores absent optional fields). 64-bit fields are Int64: a number when
// exact as one, else a bigint (a CRI memory limit or quota may be 2^63-1). Specs are
// written and read with src/containerd/exact-json.ts, never plain JSON.stringify.

/** A 64-bit integer of the spec: a number within 2^53, a bigint beyond. */
export type Int64 = number | bigint;

/** The runtime-spec version containerd 2.1 stamps on generated specs. */
export const OCI_VERSION = "1.2.1";

/** typeurl under which containerd stores a Spec in containers.Container.spec (an Any). */
export const OCI_SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
/** typeurl of a Process, the spec of Tasks.Exec. */
export const OCI_PROCESS_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";
/** typeurl of LinuxResources, what Tasks.Update takes. */
export const OCI_LINUX_RESOURCES_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: OciRoot;
  hostname?: string;
  mounts?: OciMount[];
  annotations?: Record<string, string>;
  linux?: OciLinux;
}

export interface OciRoot {
  path: string;
  readonly?: boolean;
}

export interface OciProcess {
  terminal?: boolean;
  user: OciUser;
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: Int64;
  selinuxLabel?: string;
}

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  type: string;
  hard: Int64;
  soft: Int64;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export type OciNamespaceType = "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup" | "time";

export interface OciNamespace {
  type: OciNamespaceType;
  path?: string;
}

export interface OciLinux {
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  sysctl?: Record<string, string>;
  resources?: OciResources;
  cgroupsPath?: string;
  namespaces?: OciNamespace[];
  devices?: OciDevice[];
  seccomp?: OciSeccomp;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
}

export interface OciDevice {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciResources {
  devices?: OciDeviceCgroup[];
  memory?: OciMemory;
  cpu?: OciCpu;
  pids?: { limit: Int64 };
  hugepageLimits?: OciHugepageLimit[];
  unified?: Record<string, string>;
}

export interface OciMemory {
  limit?: Int64;
  reservation?: Int64;
  swap?: Int64;
}

export interface OciCpu {
  shares?: Int64;
  quota?: Int64;
  period?: Int64;
  cpus?: string;
  mems?: string;
}

export interface OciHugepageLimit {
  pageSize: string;
  limit: Int64;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSyscall[];
}

export interface OciSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/**
 * The `config` object of an OCI image config (image-spec config.json), with the image
 * spec's capitalised JSON names. Every field is optional: images omit what they do not set.
 */
export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
}
