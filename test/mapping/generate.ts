// `make mapping`: runs the mapping scenario against the harness's containerd with a trace
// file, and renders docs/mapping.md from what crib actually called.
//
//   npx tsx test/harness/run.ts -- npx tsx test/mapping/generate.ts [--out FILE] [--trace FILE]
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTrace } from "../../src/trace/print.js";
import { startTestCrib } from "../integration/helpers/start-crib.js";
import { loadHarness } from "../harness/env.js";
import { runMappingScenario } from "./scenario.js";
import { collectCases, renderMapping, type DocCase, type OtherVersion, type Substitution } from "./render.js";

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

/** Where `make mapping` keeps the cases recorded on containerd 1.7 and 1.6 for the 2.x run. */
export const OTHER_CASES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../.cache/mapping");
export const OTHER_VERSIONS = ["1.7", "1.6"] as const;

function otherVersions(): OtherVersion[] {
  const out: OtherVersion[] = [];
  for (const version of OTHER_VERSIONS) {
    const file = join(OTHER_CASES_DIR, `cases-${version}.json`);
    if (existsSync(file)) out.push({ version, cases: JSON.parse(readFileSync(file, "utf8")) as DocCase[] });
  }
  return out;
}

/** The doc as the code produces it now (the 1.x subsections from `make mapping`'s recorded cases). */
export async function generateMapping(): Promise<string> {
  const { trace, substitutions } = await recordScenarioTrace();
  return renderMapping(parseTrace(trace), substitutions, otherVersions());
}

/** The scenario's cases on this harness's containerd (for a 1.x line). */
export async function recordCases(): Promise<DocCase[]> {
  const { trace, substitutions } = await recordScenarioTrace();
  return collectCases(parseTrace(trace), substitutions).cases;
}

async function main(argv: string[]): Promise<void> {
  // On containerd 1.7/1.6: only record the cases for the 2.x run to compare with.
  const casesVersion = argv.includes("--cases-for") ? argv[argv.indexOf("--cases-for") + 1]! : undefined;
  if (casesVersion) {
    mkdirSync(OTHER_CASES_DIR, { recursive: true });
    const file = join(OTHER_CASES_DIR, `cases-${casesVersion}.json`);
    writeFileSync(file, JSON.stringify(await recordCases(), null, 1) + "\n");
    process.stderr.write(`wrote ${file}\n`);
    return;
  }
  const out = argv.includes("--out") ? argv[argv.indexOf("--out") + 1]! : MAPPING_DOC;
  const keepTrace = argv.includes("--trace") ? argv[argv.indexOf("--trace") + 1] : undefined;
  const { trace, substitutions } = await recordScenarioTrace();
  if (keepTrace) writeFileSync(keepTrace, trace);
  writeFileSync(out, renderMapping(parseTrace(trace), substitutions, otherVersions()));
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
