// Renders docs/mapping.md from a recorded trace (pure): for each CRI RPC and case of the
// scenario, the containerd calls in order with what they carry, and a mermaid sequence
// diagram. Deterministic by construction: ids, digests, paths and registry hosts become
// placeholders, durations are dropped, calls that ran concurrently are sorted within their
// group, and a call repeated back to back (polling) is shown once.
import { ImageService, RuntimeService } from "../../src/gen/runtime/v1/api_pb.js";
import { isNote, type TraceEntry } from "../../src/trace/print.js";
import type { RecordedCall, TraceLine } from "../../src/trace/recorder.js";
import type { Fields } from "../../src/trace/request-fields.js";

/** A literal string of this run (temp dir, registry host) and its placeholder. */
export type Substitution = [string, string];

/** A call as the doc shows it; `group` > 0 marks calls that ran concurrently with each other. */
export interface DocCall {
  method: string;
  fields: Fields;
  code: string;
  group: number;
}

export interface DocCase {
  rpc: string;
  what: string;
  request: Fields;
  code: string;
  error?: string;
  calls: DocCall[];
}

type IdKind = "pod" | "container" | "exec";

const HEX64 = /[0-9a-f]{64}/g;
const DIGEST = /sha256:<id:([0-9a-f]{64})>/g;
const RANDOM = /\b[0-9a-f]{16,}\b/g;

/** What each 64-hex id of the run is, learnt from the CRI requests and the records crib created. */
export function classifyIds(lines: readonly TraceLine[]): Map<string, IdKind> {
  const kinds = new Map<string, IdKind>();
  const learn = (id: string | undefined, kind: IdKind) => {
    if (id && /^[0-9a-f]{64}$/.test(id) && !kinds.has(id)) kinds.set(id, kind);
  };
  for (const l of lines) {
    learn(l.request["podSandboxId"], "pod");
    learn(l.request["containerId"], "container");
    for (const c of l.calls) {
      if (c.method === "containers.v1.Containers/Create") learn(c.fields["id"], c.fields["kind"] === "sandbox" ? "pod" : "container");
      if (c.method === "sandbox.v1.Store/Create") learn(c.fields["sandboxId"], "pod");
      learn(c.fields["execId"], "exec");
    }
  }
  return kinds;
}

/** Replaces this run's values by placeholders, numbering ids per case by first appearance. */
export class Normaliser {
  private readonly seen = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly kinds: Map<string, IdKind>,
    private readonly subs: readonly Substitution[],
  ) {}

  private placeholder(kind: string, raw: string): string {
    const key = `${kind}:${raw}`;
    let p = this.seen.get(key);
    if (!p) {
      const n = (this.counts.get(kind) ?? 0) + 1;
      this.counts.set(kind, n);
      p = `<${kind}${n === 1 ? "" : `-${n}`}>`;
      this.seen.set(key, p);
    }
    return p;
  }

  text(v: string): string {
    let s = v;
    for (const [from, to] of this.subs) if (from !== "") s = s.split(from).join(to);
    s = s.replace(HEX64, (h) => {
      const kind = this.kinds.get(h);
      return kind ? this.placeholder(`${kind}-id`, h) : `<id:${h}>`;
    });
    s = s.replace(DIGEST, (_m, h: string) => `sha256:${this.placeholder("digest", h)}`);
    s = s.replace(/<id:([0-9a-f]{64})>/g, (_m, h: string) => this.placeholder("id", h));
    return s.replace(RANDOM, (h) => this.placeholder("random", h));
  }

  fields(f: Fields): Fields {
    const out: Fields = {};
    for (const [k, v] of Object.entries(f)) out[k] = this.text(v);
    return out;
  }
}

const callText = (c: { method: string; fields: Fields; code: string }) => `${c.method} ${JSON.stringify(c.fields)} ${c.code}`;

/**
 * Removals containerd's garbage collector may have done first (a snapshot whose container and
 * lease are gone): NOT_FOUND there depends on GC timing, crib treats it as done, the doc says OK.
 */
const GC_RACES = new Set(["snapshots.v1.Snapshots/Remove"]);

/**
 * Orders calls by start; a call that started before the previous one ended joins its
 * concurrent group, which is then sorted by content. Back-to-back repeats are shown once.
 */
export function docCalls(calls: readonly RecordedCall[], norm: Normaliser): DocCall[] {
  const byStart = [...calls].sort((a, b) => a.at - b.at);
  const groups: { call: RecordedCall; fields: Fields }[][] = [];
  let prev: RecordedCall | undefined;
  for (const c of byStart) {
    const racy = c.code === "NOT_FOUND" && GC_RACES.has(c.method);
    const item = { call: racy ? { ...c, code: "OK" } : c, fields: norm.fields(c.fields) };
    if (prev && c.at < prev.at + prev.ms) groups[groups.length - 1]!.push(item);
    else groups.push([item]);
    prev = c;
  }
  const out: DocCall[] = [];
  let groupNo = 0;
  for (const g of groups) {
    const items = g.map((i) => ({ method: i.call.method, fields: i.fields, code: i.call.code }));
    items.sort((a, b) => (callText(a) < callText(b) ? -1 : callText(a) > callText(b) ? 1 : 0));
    const group = items.length > 1 ? ++groupNo : 0;
    for (const it of items) {
      const last = out[out.length - 1];
      if (last && callText(last) === callText(it)) continue;
      out.push({ ...it, group });
    }
  }
  return out;
}

function docCase(line: TraceLine, what: string, kinds: Map<string, IdKind>, subs: readonly Substitution[]): DocCase {
  const norm = new Normaliser(kinds, subs);
  const request = norm.fields(line.request);
  const c: DocCase = { rpc: line.rpc, what, request, code: line.code, calls: docCalls(line.calls, norm) };
  if (line.error) c.error = norm.text(line.error);
  return c;
}

const BACKGROUND_ORDER = ["(start-up check)", "(start-up)", "(task exit)", "(exec session)", "(attach session)"];

/** The scenario's cases ("RPC: what" notes, each followed by its RPC's line) and the background lines' distinct shapes. */
export function collectCases(entries: readonly TraceEntry[], subs: readonly Substitution[]): { cases: DocCase[]; background: DocCase[] } {
  const lines = entries.filter((e): e is TraceLine => !isNote(e));
  const kinds = classifyIds(lines);
  const cases: DocCase[] = [];
  const claimed = new Set<TraceLine>();
  entries.forEach((e, i) => {
    if (!isNote(e)) return;
    const sep = e.note.indexOf(": ");
    const rpc = e.note.slice(0, sep);
    const what = e.note.slice(sep + 2);
    const line = entries.slice(i + 1).find((l): l is TraceLine => !isNote(l) && l.rpc === rpc && !claimed.has(l));
    if (!line) throw new Error(`the trace has no ${rpc} line after the note "${e.note}"`);
    claimed.add(line);
    cases.push(docCase(line, what, kinds, subs));
  });
  const background = new Map<string, DocCase>();
  for (const l of lines) {
    if (!l.rpc.startsWith("(")) continue;
    const c = docCase(l, "", kinds, subs);
    background.set(JSON.stringify(c), c);
  }
  const rank = (c: DocCase) => {
    const i = BACKGROUND_ORDER.indexOf(c.rpc);
    return i < 0 ? BACKGROUND_ORDER.length : i;
  };
  const sorted = [...background.entries()]
    .sort(([a, ca], [b, cb]) => rank(ca) - rank(cb) || (ca.rpc < cb.rpc ? -1 : ca.rpc > cb.rpc ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([, c]) => c);
  return { cases, background: sorted };
}

// --- markdown ---

const SERVICE_NAMES: Record<string, string> = { "sandbox.v1.Store": "SandboxStore", "sandbox.v1.Controller": "SandboxController" };

function participant(method: string): string {
  const service = method.slice(0, method.indexOf("/"));
  return SERVICE_NAMES[service] ?? service.slice(service.lastIndexOf(".") + 1);
}

const fieldsText = (f: Fields) =>
  Object.entries(f)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/** Mermaid message text: no paths (too long), no characters mermaid reads as syntax. */
function diagramText(c: DocCall): string {
  const f = Object.entries(c.fields)
    .filter(([, v]) => !v.startsWith("<state-dir>") && !v.startsWith("<root-dir>") && !v.startsWith("<scratch>"))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const text = `${c.method.slice(c.method.indexOf("/") + 1)} ${f}`.trim();
  return text.replace(/[;#]/g, " ").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

function sequenceDiagram(c: DocCase): string[] {
  const parts: string[] = [];
  for (const call of c.calls) if (!parts.includes(participant(call.method))) parts.push(participant(call.method));
  const out = ["```mermaid", "sequenceDiagram", "  participant crib"];
  for (const p of parts) out.push(`  participant ${p}`);
  let open = 0;
  for (const call of c.calls) {
    if (call.group !== open) {
      if (open !== 0) out.push("  end");
      if (call.group !== 0) out.push("  par concurrently");
      open = call.group;
    } else if (open !== 0) {
      out.push("  and");
    }
    const p = participant(call.method);
    out.push(`  crib->>${p}: ${diagramText(call)}`);
    if (call.code !== "OK") out.push(`  ${p}-->>crib: ${call.code}`);
  }
  if (open !== 0) out.push("  end");
  out.push("```");
  return out;
}

function callsTable(c: DocCase): string[] {
  if (c.calls.length === 0) return ["No containerd calls."];
  const out = ["| # | containerd call | request fields | code |", "| --- | --- | --- | --- |"];
  let step = 0;
  let lastGroup = -1;
  for (const call of c.calls) {
    if (call.group === 0 || call.group !== lastGroup) step++;
    const no = call.group === 0 ? String(step) : `${step} ‖`;
    lastGroup = call.group;
    const f = fieldsText(call.fields).replace(/\|/g, "\\|");
    out.push(`| ${no} | ${call.method} | ${f === "" ? "" : `\`${f}\``} | ${call.code === "OK" ? "" : call.code} |`);
  }
  return out;
}

function caseBlock(c: DocCase, heading: string): string[] {
  const out = [heading, ""];
  const req = fieldsText(c.request);
  out.push(`Request: ${req === "" ? "(no identifying fields)" : `\`${req}\``}. Result: ${c.code}${c.error ? ` (\`${c.error.replace(/`/g, "'")}\`)` : ""}.`, "");
  out.push(...callsTable(c), "");
  if (c.calls.length > 0) out.push(...sequenceDiagram(c), "");
  return out;
}

const anchor = (rpc: string) => rpc.toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-");

export function renderMapping(entries: readonly TraceEntry[], subs: readonly Substitution[], others: readonly OtherVersion[] = []): string {
  const { cases, background } = collectCases(entries, subs);
  const rpcs: string[] = [];
  for (const c of cases) if (!rpcs.includes(c.rpc)) rpcs.push(c.rpc);
  const served = [...RuntimeService.methods, ...ImageService.methods].map((m) => m.name);
  const missing = served.filter((m) => !rpcs.includes(m));
  const out = [
    "# CRI → containerd mapping",
    "",
    "<!-- Generated by `make mapping` from a real run of test/mapping/scenario.ts against containerd; do not edit by hand.",
    "     test/integration/mapping.test.ts fails when this file is not what the code produces. -->",
    "",
    "For each CRI RPC crib serves, in the cases that change what it does, the containerd gRPC calls it makes in order",
    "(`service/method` as in containerd's API: `tasks.v1.Tasks/Create` is `containerd.services.tasks.v1.Tasks/Create`),",
    "with the request fields that identify what each call touches. It is generated from the trace crib records with",
    "`--trace-file` (print one with `crib trace FILE`), so it cannot drift from the code.",
    "",
    "How to read it:",
    "",
    "- Ids are placeholders numbered per case: `<pod-id>`, `<container-id>`, `<exec-id>`, `<digest>` (a sha256 of a",
    "  manifest, config or chain id), `<random>` (a random name such as an exec FIFO set). `<registry>` and",
    "  `<auth-registry>` are the test registries, `<state-dir>` and `<root-dir>` crib's directories.",
    "- Calls marked `‖` under one step number ran concurrently; their order within the step is not fixed (shown sorted).",
    "  In the diagrams they are `par` blocks. A call repeated back to back (polling) is shown once.",
    "- The code column is empty for OK. Durations are left out; a recorded trace has them. A Snapshots/Remove that",
    "  containerd's garbage collector beat (NOT_FOUND, which crib takes as done) is shown as OK.",
    "- Streaming calls (`Streaming/Stream`, `Events/Subscribe`) are recorded when they end; their fields are in their messages.",
    "- Exec, Attach and PortForward only hand out a URL: their containerd calls happen in the session",
    "  (see [Background work](#background-work)); port-forward sessions make none (`nsenter` + `socat`).",
    "  Tasks/ResizePty for terminal resizes is called from the session's event handlers, outside its trace, and is not shown.",
    "",
    "## RPCs",
    "",
    rpcs.map((r) => `[${r}](#${anchor(r)})`).join(" · "),
    "",
  ];
  for (const rpc of rpcs) {
    out.push(`## ${rpc}`, "");
    const mine = cases.filter((c) => c.rpc === rpc);
    for (const c of mine) out.push(...caseBlock(c, `### ${c.what === "" ? rpc : c.what}`));
  }
  out.push("## Background work", "", "Work outside any RPC, recorded as pseudo-RPC lines; each distinct shape once.", "");
  background.forEach((c) => {
    const same = background.filter((b) => b.rpc === c.rpc);
    const nth = same.length > 1 ? `, shape ${same.indexOf(c) + 1} of ${same.length}` : "";
    out.push(...caseBlock(c, `### ${c.rpc}${nth}`));
  });
  out.push("## Not exercised by the scenario", "");
  out.push(missing.length === 0 ? "None." : `The scenario does not call ${missing.join(", ")}.`, "");
  out.push(...versionSection(cases, others), "");
  return out.join("\n");
}

// --- other containerd versions ---

/** The scenario's cases as recorded on another containerd line (written by `make mapping`). */
export interface OtherVersion {
  version: string;
  cases: DocCase[];
}

export const VERSIONS_HEADING = "## containerd 1.7 and 1.6";
const caseKey = (c: DocCase) => `${c.rpc}\u0000${c.what}`;
export const tableText = (c: DocCase) => callsTable(c).join("\n");

/** Pure: the cases whose containerd calls differ from the 2.x run's, as that version makes them. */
export function differingCases(base: readonly DocCase[], other: readonly DocCase[]): DocCase[] {
  return differingFromTables(new Map(base.map((c) => [caseKey(c), tableText(c)])), other);
}

function differingFromTables(baseTables: ReadonlyMap<string, string>, other: readonly DocCase[]): DocCase[] {
  return other.filter((c) => baseTables.get(caseKey(c)) !== tableText(c));
}

/** Pure: the 2.x call tables of a rendered doc, by case (what the 1.x check compares against). */
export function docTables(doc: string): Map<string, string> {
  const lines = doc.split("\n");
  const end = lines.indexOf(VERSIONS_HEADING);
  const tables = new Map<string, string>();
  let rpc = "";
  for (let i = 0; i < (end < 0 ? lines.length : end); i++) {
    const l = lines[i]!;
    if (l.startsWith("## ")) rpc = l.slice(3);
    if (!l.startsWith("### ")) continue;
    const heading = l.slice(4);
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith("Request:")) j++;
    j += 2;
    const table: string[] = [];
    while (j < lines.length && lines[j] !== "") table.push(lines[j++]!);
    tables.set(`${rpc}\u0000${heading === rpc ? "" : heading}`, table.join("\n"));
  }
  return tables;
}

/** Pure: the subsection a doc must hold for one version, given that version's cases. */
export function expectedSubsection(doc: string, version: string, cases: readonly DocCase[]): string {
  return versionSubsection(version, differingFromTables(docTables(doc), cases)).join("\n").trimEnd();
}

/** Pure: the text of one version's subsection in a rendered doc ("" when absent). */
export function committedSubsection(doc: string, version: string): string {
  const lines = doc.split("\n");
  const start = lines.indexOf(`### containerd ${version}`);
  if (start < 0) return "";
  let end = start + 1;
  while (end < lines.length && !lines[end]!.startsWith("### containerd ") && !lines[end]!.startsWith("## ")) end++;
  return lines.slice(start, end).join("\n").trimEnd();
}

/** One version's subsection: the differing cases with their calls (the rest are as above). */
export function versionSubsection(version: string, differing: readonly DocCase[]): string[] {
  const out = [`### containerd ${version}`, ""];
  if (differing.length === 0) return [...out, "Every case makes the same calls as on 2.x.", ""];
  out.push(`${differing.length} cases make other calls than on 2.x; every other case is as above.`, "");
  for (const c of differing) {
    out.push(`#### ${c.rpc}: ${c.what === "" ? c.rpc : c.what}`, "");
    out.push(...callsTable(c), "");
  }
  return out;
}

function versionSection(base: readonly DocCase[], others: readonly OtherVersion[]): string[] {
  const out = [
    VERSIONS_HEADING,
    "",
    "The same scenario run by `make mapping` against Debian's containerd 1.7 (trixie) and 1.6 (bookworm). There crib",
    "pulls images itself (1.6 has no Transfer service; 1.7's ignores the resolver's host_dir) and, on 1.6, keeps no",
    "Sandbox Store records. Listed per version: only the cases whose calls differ from the 2.x tables above.",
    "test/integration/mapping.test.ts checks each subsection when the compatibility suites run on that version.",
    "",
  ];
  if (others.length === 0) return [...out, "Not recorded in this run (`make mapping` records 1.7 and 1.6 first).", ""];
  for (const o of others) out.push(...versionSubsection(o.version, differingCases(base, o.cases)));
  return out;
}
