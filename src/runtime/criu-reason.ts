// CRIU's own reason for a failure, short enough for a gRPC message: its "Error (file:line):"
// lines (the first few, timestamps dropped), else the last lines it printed. Used on the
// output of `criu check` and on the dump.log of a failed dump, so the kubelet's user reads
// what CRIU said instead of a path to a log file on the node.
import { readFile } from "node:fs/promises";
import { runCommand } from "../io/run-command.js";

export function criuReason(text: string, max = 4): string {
  const lines = text
    .split("\n")
    .map((l) => l.replace(/^\(\s*[\d.]+\)\s*/, "").trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /^Error\b|\bError \(|error:/i.test(l));
  return (errors.length ? errors.slice(0, max) : lines.slice(-max)).join("; ");
}

/** undefined when `criu check` passes, else CRIU's reason. */
export async function criuCheck(criu: string): Promise<string | undefined> {
  const r = await runCommand(criu, ["check"], { timeoutMs: 60_000 });
  if (r.code === 0) return undefined;
  return criuReason(`${r.stdout}\n${r.stderr}`) || `criu check exited with ${r.code ?? r.signal}`;
}

/** CRIU's reason from a dump.log, or undefined when there is none. */
export async function dumpLogReason(path: string): Promise<string | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  return text ? criuReason(text) || undefined : undefined;
}
