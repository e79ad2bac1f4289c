// docs/mapping.md is generated from a real run (`make mapping`); this test runs the same
// scenario and fails when the file is not what the code produces now.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateMapping, MAPPING_DOC, recordCases } from "../mapping/generate.js";
import { committedSubsection, expectedSubsection, VERSIONS_HEADING } from "../mapping/render.js";
import { majorVersion } from "../../src/containerd/capabilities.js";
import { loadHarness } from "../harness/env.js";

test("docs/mapping.md is what the mapping scenario records now", async () => {
  const h = loadHarness();
  const committedDoc = existsSync(MAPPING_DOC) ? readFileSync(MAPPING_DOC, "utf8") : "";
  const line = majorVersion(h.containerd.version) >= 2 ? "2" : h.containerd.version.split(".").slice(0, 2).join(".");
  let now: string;
  let committed: string;
  if (line === "2") {
    // The 1.7/1.6 subsections are checked by the compatibility runs on those versions.
    const upTo = (doc: string) => doc.slice(0, doc.indexOf(VERSIONS_HEADING) < 0 ? doc.length : doc.indexOf(VERSIONS_HEADING));
    now = upTo(await generateMapping());
    committed = upTo(committedDoc);
  } else {
    now = expectedSubsection(committedDoc, line, await recordCases());
    committed = committedSubsection(committedDoc, line);
  }
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
