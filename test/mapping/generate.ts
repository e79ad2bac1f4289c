// `make mapping`: runs the mapping scenario against the harness's containerd with a trace
// file, and renders docs/mapping.md from what crib actually called.
//
//   npx tsx test/harness/run.ts -- npx tsx test/mapping/generate.ts [--out FILE] [--trace FILE]
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTrace } from "../../src/trace/print.js";
import { startTestCrib } from "../integration/helpers/start-crib.js";
import { loadHarness } from "../harness/env.js";
import { runMappingScenario } from "./scenario.js";
import { renderMapping, type Substitution } from "./render.js";

export const MAPPING_DOC = resolve(dirname(fileURLToPath(import.meta.url)), "../../docs/mapping.md");

/** Runs the scenario on a fresh crib and returns the trace file's text. */
export async function recordScenarioTrace(): Promise<{ trace: string; substitutions: Substitution[] }> {
  const h = loadHarness();
  const dir = join(h.scratchDir, `mapping-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const traceFile = join(dir, "trace.jsonl");
  const t = await startTestCrib({ traceFile, restrictOOMScoreAdj: true });
  try {
    await runMappingScenario(t);
  } finally {
    await t.removeAllPods();
    await t.stop();
  }
  const substitutions: Substitution[] = [
    [t.config.rootDir, "<root-dir>"],
    [t.config.stateDir, "<state-dir>"],
    [h.scratchDir, "<scratch>"],
    [h.containerd.state, "<containerd-state>"],
    [h.containerd.root, "<containerd-root>"],
    [dirname(h.scratchDir), "<harness>"],
    [h.authRegistry.host, "<auth-registry>"],
    [h.registry.host, "<registry>"],
    [t.config.namespace, "<namespace>"],
  ];
  return { trace: readFileSync(traceFile, "utf8"), substitutions };
}

export async function generateMapping(): Promise<string> {
  const { trace, substitutions } = await recordScenarioTrace();
  return renderMapping(parseTrace(trace), substitutions);
}

async function main(argv: string[]): Promise<void> {
  const out = argv.includes("--out") ? argv[argv.indexOf("--out") + 1]! : MAPPING_DOC;
  const keepTrace = argv.includes("--trace") ? argv[argv.indexOf("--trace") + 1] : undefined;
  const { trace, substitutions } = await recordScenarioTrace();
  if (keepTrace) writeFileSync(keepTrace, trace);
  writeFileSync(out, renderMapping(parseTrace(trace), substitutions));
  process.stderr.write(`wrote ${out}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
