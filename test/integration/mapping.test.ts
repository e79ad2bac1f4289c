// docs/mapping.md is generated from a real run (`make mapping`); this test runs the same
// scenario and fails when the file is not what the code produces now.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateMapping, MAPPING_DOC } from "../mapping/generate.js";
import { loadHarness } from "../harness/env.js";

test("docs/mapping.md is what the mapping scenario records now", async () => {
  const now = await generateMapping();
  const committed = existsSync(MAPPING_DOC) ? readFileSync(MAPPING_DOC, "utf8") : "";
  if (committed !== now) {
    const fresh = join(loadHarness().scratchDir, "mapping.md");
    writeFileSync(fresh, now);
    const a = committed.split("\n");
    const b = now.split("\n");
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    assert.fail(
      `docs/mapping.md is stale: regenerate it with \`make mapping\` and commit it.\n` +
        `First difference at line ${i + 1}:\n  committed: ${a[i] ?? "(end of file)"}\n  now:       ${b[i] ?? "(end of file)"}`,
    );
  }
});
