// The import rules of .dependency-cruiser.cjs (issue 11) catch a wrong arrow: the real
// config is run over a small tree of files in a temp dir, each importing one other file.
// An upward or sideways folder import, a root file importing a folder and a folder
// missing from LAYERS fail; downward imports pass. `make deps-check` runs the same config
// over the real src/.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";

const repo = join(import.meta.dirname, "../..");
const depcruise = join(repo, "node_modules/.bin/depcruise");

/** importer → imported, both relative to the tree's root. */
const WRONG: [string, string, string][] = [
  ["src/container/a.ts", "src/pod/b.ts", "layer-container-not-up"],
  ["src/common/a.ts", "src/image/b.ts", "layer-common-not-up"],
  ["src/io/a.ts", "src/network/b.ts", "layer-containerd-io-not-up"],
  ["src/gen/a.ts", "src/rpc/b.ts", "layer-gen-not-up"],
  ["src/events/a.ts", "src/stats/b.ts", "layer-streaming-stats-events-runtime-no-sideways"],
  ["src/oci/a.ts", "src/network/b.ts", "layer-oci-network-no-sideways"],
  ["src/config.ts", "src/common/b.ts", "root-files-are-the-floor"],
  ["src/pod/a.ts", "src/main.ts", "layer-pod-not-up"],
  ["src/newfolder/a.ts", "src/errors.ts", "folder-in-a-layer-from"],
  ["src/io/a.ts", "src/newfolder/b.ts", "folder-in-a-layer"],
];
const RIGHT: [string, string][] = [
  ["src/pod/a.ts", "src/container/b.ts"],
  ["src/server/a.ts", "src/pod/b.ts"],
  ["src/main.ts", "src/server/b.ts"],
  ["src/network/a.ts", "src/io/b.ts"],
  ["src/streaming/a.ts", "src/trace/b.ts"],
  ["src/container/a.ts", "src/errors.ts"],
];

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

async function violations(pairs: [string, string][]): Promise<{ cruised: number; files: number; violations: Violation[] }> {
  const root = await mkdtemp(join(tmpdir(), "crib-deps-"));
  try {
    await copyFile(join(repo, ".dependency-cruiser.cjs"), join(root, ".dependency-cruiser.cjs"));
    await writeFile(join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true }, include: ["src/**/*.ts"] }));
    const files = new Map<string, string[]>();
    for (const [from, to] of pairs) {
      files.set(from, [...(files.get(from) ?? []), to]);
      if (!files.has(to)) files.set(to, []);
    }
    for (const [file, imports] of files) {
      await mkdir(join(root, dirname(file)), { recursive: true });
      const lines = imports.map((to, i) => `import { x as x${i} } from "./${relative(dirname(file), to).replace(/\.ts$/, ".js")}";\nexport const y${i} = x${i};`);
      await writeFile(join(root, file), [...lines, "export const x = 1;", ""].join("\n"));
    }
    const out = await promisify(execFile)(depcruise, ["--config", ".dependency-cruiser.cjs", "--output-type", "json", "src"], { cwd: root, maxBuffer: 16 << 20 }).catch(
      (e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }),
    );
    const result = JSON.parse(out.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
    return { cruised: result.summary.totalCruised, files: files.size, violations: result.summary.violations };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe("import rules (.dependency-cruiser.cjs)", () => {
  let wrong: Violation[] = [];
  let right: Awaited<ReturnType<typeof violations>>;
  before(async () => {
    wrong = (await violations(WRONG.map(([from, to]) => [from, to]))).violations;
    right = await violations(RIGHT);
  });

  for (const [from, to, rule] of WRONG) {
    it(`refuses ${from} → ${to} (${rule})`, () => {
      const hits = wrong.filter((v) => v.from === from && v.to === to).map((v) => v.rule.name);
      assert.ok(hits.includes(rule), `${from} → ${to}: expected ${rule}, got ${JSON.stringify(hits)}`);
    });
  }

  it("accepts downward imports", () => {
    assert.equal(right.cruised, right.files, "every file of the tree was read");
    assert.deepEqual(
      right.violations.map((v) => `${v.from} → ${v.to}: ${v.rule.name}`),
      [],
    );
  });
});
