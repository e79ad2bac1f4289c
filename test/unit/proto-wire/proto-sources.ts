// Where crib's proto copies and their upstream originals live, and which
// upstream file each copy must match.
import path from "node:path";
import { listProtoFiles, STUBS_DIR } from "./load-proto-set.js";

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");

/** Filled by scripts/install-deps.sh (`make deps`) from the Debian packages below. */
export const UPSTREAM_DIR = path.join(REPO_ROOT, ".cache/upstream-protos");
export const UPSTREAM_SRC = path.join(UPSTREAM_DIR, "usr/share/gocode/src");
export const UPSTREAM_PACKAGES = [
  "golang-github-kubernetes-cri-api-dev",
  "golang-github-containerd-containerd-api-dev",
  "golang-github-containerd-cgroups-dev",
] as const;

const OURS = path.join(REPO_ROOT, "proto");
/** The buf modules of buf.yaml, i.e. the import roots of the generated code. */
export const OUR_INCLUDE_DIRS = ["cri", "containerd", "google"].map((m) => path.join(OURS, m));
/**
 * Debian ships no google/rpc/status.proto, which upstream containerd imports;
 * crib's own copy (checked separately) stands in for it.
 */
export const UPSTREAM_INCLUDE_DIRS = [UPSTREAM_SRC, STUBS_DIR, path.join(OURS, "google")];

const CRI_UPSTREAM = "k8s.io/cri-api/pkg/apis/runtime/v1/api.proto";
export const CRI_OURS = "runtime/v1/api.proto";
const CONTAINERD_API = "github.com/containerd/containerd/api";
/** containerd's cgroup v1/v2 stats messages: the payload of Tasks.Metrics. */
const CGROUPS_STATS = ["github.com/containerd/cgroups/v3/cgroup1/stats", "github.com/containerd/cgroups/v3/cgroup2/stats"];

/** Upstream files crib deliberately has no copy of. */
export const NOT_COPIED: readonly { prefix: string; why: string }[] = [
  {
    prefix: `${CONTAINERD_API}/runtime/`,
    why: "shim-side ttrpc APIs (task v2/v3, sandbox controller); crib only speaks gRPC to containerd",
  },
  { prefix: `${CONTAINERD_API}/services/ttrpc/`, why: "ttrpc event forwarding from shims into containerd" },
];

export interface ProtoPair {
  /** Import-style path under UPSTREAM_SRC. */
  upstream: string;
  /** Import-style path under one of OUR_INCLUDE_DIRS. */
  ours: string;
}

export function upstreamProtoFiles(): string[] {
  return [
    ...listProtoFiles(UPSTREAM_SRC, path.dirname(CRI_UPSTREAM)),
    ...listProtoFiles(UPSTREAM_SRC, CONTAINERD_API),
    ...CGROUPS_STATS.flatMap((dir) => listProtoFiles(UPSTREAM_SRC, dir)),
  ];
}

export function ourProtoFiles(): { cri: string[]; containerd: string[]; google: string[] } {
  const [cri, containerd, google] = OUR_INCLUDE_DIRS.map((dir) => listProtoFiles(dir)) as [string[], string[], string[]];
  return { cri, containerd, google };
}

export function notCopiedReason(upstream: string): string | undefined {
  return NOT_COPIED.find((n) => upstream.startsWith(n.prefix))?.why;
}

/** The copy an upstream file must match: containerd keeps its path, CRI drops the Go module prefix. */
export function ourCopyOf(upstream: string): string {
  return upstream === CRI_UPSTREAM ? CRI_OURS : upstream;
}

/** Lines of .cache/upstream-protos/VERSIONS ("package version"), if install-deps wrote it. */
export function upstreamVersionsNote(read: (file: string) => string): string {
  try {
    return read(path.join(UPSTREAM_DIR, "VERSIONS")).trim().split("\n").join(", ");
  } catch {
    return "versions unknown (no VERSIONS file)";
  }
}
