// Which fields of a CRI request the trace recorder keeps: what identifies the pod,
// container, exec or image the RPC is about, and the few switches that change which
// containerd calls it makes (host network, tty, stdin, credentials given). Never whole
// configs, never credentials.
import type { Fields } from "./request-fields.js";

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === "object" && v !== null ? (v as Rec) : {});

/** NamespaceMode.NODE: the pod shares the host's namespace. */
const NODE = 2;

const ID_FIELDS = ["podSandboxId", "containerId", "execId", "runtimeHandler"];
const SWITCHES = ["tty", "stdin", "stdout", "stderr", "reverse"];

function str(out: Fields, key: string, v: unknown): void {
  if (typeof v === "string" && v !== "") out[key] = v;
}

/** The identifying fields of one decoded CRI request (any runtime.v1 method). */
export function criRequestFields(req: unknown): Fields {
  const r = rec(req);
  const out: Fields = {};
  for (const f of ID_FIELDS) str(out, f, r[f]);
  str(out, "image", rec(r["image"])["image"]);
  for (const key of ["config", "sandboxConfig"] as const) {
    const meta = rec(rec(r[key])["metadata"]);
    str(out, key === "config" ? "name" : "pod", meta["name"]);
  }
  const nsOpts = rec(rec(rec(rec(r["config"])["linux"])["securityContext"])["namespaceOptions"]);
  if (nsOpts["network"] === NODE) out["hostNetwork"] = "true";
  if (rec(r["config"])["tty"] === true) out["tty"] = "true";
  if (rec(r["config"])["stdin"] === true) out["stdin"] = "true";
  for (const f of SWITCHES) if (r[f] === true) out[f] = "true";
  if (r["auth"] !== undefined && r["auth"] !== null) out["auth"] = "given";
  const port = r["port"];
  if (Array.isArray(port) && port.length > 0) out["port"] = port.join(",");
  if (typeof r["timeout"] === "bigint" && r["timeout"] !== 0n) out["timeout"] = String(r["timeout"]);
  return out;
}
