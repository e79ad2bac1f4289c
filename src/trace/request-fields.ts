// Which fields of a containerd request the trace recorder keeps: one pure picker per
// method, choosing what identifies the call (ids, snapshot keys, lease ids, image names),
// never whole specs or configs. Methods without a picker keep their id-like fields.
import { unpackAny } from "../containerd/any.js";
// `io.cri-containerd.kind` tells a pod's container record from a CRI container's.
import { KIND_LABEL } from "../common/labels.js";
import { OCIRegistrySchema } from "../gen/github.com/containerd/containerd/api/types/transfer/registry_pb.js";
import { ImageStoreSchema } from "../gen/github.com/containerd/containerd/api/types/transfer/imagestore_pb.js";

export type Fields = Record<string, string>;
type Rec = Record<string, unknown>;
type Picker = (req: Rec) => Fields;

const rec = (v: unknown): Rec => (typeof v === "object" && v !== null ? (v as Rec) : {});

/** Keeps the named fields of obj that are non-empty strings, booleans set to true or non-zero numbers. */
function pick(obj: unknown, names: readonly string[], prefix = ""): Fields {
  const r = rec(obj);
  const out: Fields = {};
  for (const n of names) {
    const v = r[n];
    if (typeof v === "string" && v !== "") out[prefix + n] = v;
    else if (v === true) out[prefix + n] = "true";
    else if ((typeof v === "number" && v !== 0) || (typeof v === "bigint" && v !== 0n)) out[prefix + n] = String(v);
  }
  return out;
}

function filters(req: Rec): Fields {
  const f = req["filters"];
  return Array.isArray(f) && f.length > 0 ? { filters: f.join(",") } : {};
}

function typeName(any: unknown): string {
  return String(rec(any)["typeUrl"] ?? "").replace(/^.*\//, "");
}

function transferFields(req: Rec): Fields {
  const out: Fields = { source: typeName(req["source"]), destination: typeName(req["destination"]) };
  const src = unpackAny(req["source"] as Parameters<typeof unpackAny>[0], OCIRegistrySchema);
  if (src) Object.assign(out, pick(src, ["reference"]), src.resolver?.authStream ? { authStream: "yes" } : {});
  const dst = unpackAny(req["destination"] as Parameters<typeof unpackAny>[0], ImageStoreSchema);
  if (dst) {
    Object.assign(out, pick(dst, ["name"], "destination."));
    const snapshotters = dst.unpacks.map((u) => u.snapshotter).filter((s) => s !== "");
    if (snapshotters.length > 0) out["unpack"] = snapshotters.join(",");
  }
  return out;
}

const PICKERS: Record<string, Picker> = {
  "containers.v1.Containers/Create": (r) => {
    const c = rec(r["container"]);
    const kind = rec(c["labels"])[KIND_LABEL];
    return {
      ...pick(c, ["id", "image", "snapshotter", "snapshotKey", "sandbox"]),
      ...pick(rec(c["runtime"]), ["name"], "runtime."),
      ...(typeof kind === "string" ? { kind } : {}),
    };
  },
  "containers.v1.Containers/Update": (r) => {
    const paths = rec(r["updateMask"])["paths"];
    return { ...pick(r["container"], ["id"]), ...(Array.isArray(paths) && paths.length > 0 ? { fields: paths.join(",") } : {}) };
  },
  "containers.v1.Containers/Get": (r) => pick(r, ["id"]),
  "containers.v1.Containers/Delete": (r) => pick(r, ["id"]),
  "containers.v1.Containers/List": filters,
  "tasks.v1.Tasks/Create": (r) => pick(r, ["containerId", "terminal", "stdin", "stdout", "stderr"]),
  "tasks.v1.Tasks/Kill": (r) => pick(r, ["containerId", "execId", "signal", "all"]),
  "tasks.v1.Tasks/Exec": (r) => pick(r, ["containerId", "execId", "terminal", "stdin"]),
  "tasks.v1.Tasks/ResizePty": (r) => pick(r, ["containerId", "execId"]),
  "tasks.v1.Tasks/CloseIO": (r) => pick(r, ["containerId", "execId", "stdin"]),
  "tasks.v1.Tasks/Metrics": filters,
  "tasks.v1.Tasks/Checkpoint": (r) => pick(r, ["containerId"]),
  "snapshots.v1.Snapshots/Prepare": (r) => pick(r, ["snapshotter", "key", "parent"]),
  "snapshots.v1.Snapshots/List": (r) => ({ ...pick(r, ["snapshotter"]), ...filters(r) }),
  "leases.v1.Leases/Create": (r) => ({ ...pick(r, ["id"]), ...(rec(r["labels"])["containerd.io/gc.expire"] ? { expires: "yes" } : {}) }),
  "leases.v1.Leases/Delete": (r) => ({ ...pick(r, ["id"]), ...pick(r, ["sync"]) }),
  "leases.v1.Leases/List": filters,
  "images.v1.Images/Get": (r) => pick(r, ["name"]),
  "images.v1.Images/Delete": (r) => pick(r, ["name", "sync"]),
  "images.v1.Images/Create": (r) => ({ ...pick(r["image"], ["name"]), ...pick(rec(rec(r["image"])["target"]), ["digest"], "target.") }),
  "images.v1.Images/Update": (r) => ({ ...pick(r["image"], ["name"]), ...pick(rec(rec(r["image"])["target"]), ["digest"], "target.") }),
  "images.v1.Images/List": filters,
  "content.v1.Content/Read": (r) => pick(r, ["digest"]),
  "content.v1.Content/Info": (r) => pick(r, ["digest"]),
  "transfer.v1.Transfer/Transfer": transferFields,
  "sandbox.v1.Store/Create": (r) => pick(r["sandbox"], ["sandboxId", "sandboxer"]),
  "sandbox.v1.Store/Update": (r) => {
    const fields = r["fields"];
    return { ...pick(r["sandbox"], ["sandboxId"]), ...(Array.isArray(fields) && fields.length > 0 ? { fields: fields.join(",") } : {}) };
  },
  "sandbox.v1.Store/List": filters,
  "events.v1.Events/Subscribe": filters,
  "introspection.v1.Introspection/Plugins": filters,
};

/** Fields kept for methods without a picker: whatever identifies the object touched. */
const GENERIC = ["id", "containerId", "execId", "sandboxId", "key", "snapshotter", "name", "digest"];

/** The fields of one containerd request worth recording ("tasks.v1.Tasks/Create", decoded request). */
export function requestFields(method: string, req: unknown): Fields {
  const picker = PICKERS[method];
  return picker ? picker(rec(req)) : pick(req, GENERIC);
}
