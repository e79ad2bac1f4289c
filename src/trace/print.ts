// `crib trace FILE`: a recorded trace file as readable call trees, one per CRI RPC, with
// the containerd calls under it in order. A call that started before the previous one
// ended ran concurrently with it and is marked "‖".
import { readFile } from "node:fs/promises";
import type { Fields } from "./request-fields.js";
import type { NoteLine, RecordedCall, TraceLine } from "./recorder.js";

export type TraceEntry = TraceLine | NoteLine;

/** Parses a trace file's lines; a torn last line (crib killed mid-write) is skipped. */
export function parseTrace(text: string): TraceEntry[] {
  const out: TraceEntry[] = [];
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue;
    try {
      out.push(JSON.parse(raw) as TraceEntry);
    } catch {
      // an incomplete line is the only kind crib writes; nothing to show
    }
  }
  return out;
}

export const isNote = (e: TraceEntry): e is NoteLine => "note" in e;

/** 64-hex ids shortened to 12 characters, as crictl shows them. */
const shortIds = (v: string) => v.replace(/\b([0-9a-f]{12})[0-9a-f]{52}\b/g, "$1");

export function formatFields(f: Fields): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${shortIds(v)}`)
    .join(" ");
}

/** True when a call started before an earlier one of the same RPC had ended. */
export function overlapsEarlier(calls: readonly RecordedCall[], i: number): boolean {
  const c = calls[i]!;
  for (let j = 0; j < i; j++) {
    const p = calls[j]!;
    if (p.at <= c.at && c.at < p.at + p.ms) return true;
  }
  return false;
}

export function formatLine(line: TraceLine): string {
  const head = [line.rpc, formatFields(line.request), line.code, `${line.ms}ms`, line.time].filter((s) => s !== "").join("  ");
  const out = [line.error ? `${head}\n  error: ${line.error}` : head];
  line.calls.forEach((c, i) => {
    const branch = i === line.calls.length - 1 ? "└─" : "├─";
    const par = overlapsEarlier(line.calls, i) ? "‖ " : "";
    const code = c.code === "OK" ? "" : `  ${c.code}`;
    out.push(`${branch} ${par}${c.method} ${formatFields(c.fields)}${code}  +${c.at}ms ${c.ms}ms`.replace(/ +\n/, "\n"));
  });
  return out.join("\n");
}

export function formatTrace(entries: readonly TraceEntry[]): string {
  return entries.map((e) => (isNote(e) ? `# ${e.note}` : formatLine(e))).join("\n\n") + "\n";
}

/** The subcommand: prints FILE's call trees to stdout. */
export async function traceCommand(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0]!.startsWith("-")) {
    process.stderr.write("usage: crib trace FILE   (a file written with --trace-file)\n");
    return 2;
  }
  process.stdout.write(formatTrace(parseTrace(await readFile(args[0]!, "utf8"))));
  return 0;
}
