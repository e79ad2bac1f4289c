// CheckpointContainer's pieces that need no CRIU: finding criu on PATH, and the overlay
// upper directory whose contents become rootfs-diff.tar.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath, overlayUpperDir } from "../../src/runtime/runtime-checkpoint.js";

test("findOnPath: the first executable of that name, skipping non-executables", async () => {
  const dir = mkdtempSync(join(tmpdir(), "crib-path-"));
  try {
    for (const d of ["a", "b", "c"]) mkdirSync(join(dir, d));
    writeFileSync(join(dir, "a/criu"), "not executable");
    writeFileSync(join(dir, "b/criu"), "#!/bin/sh\n");
    chmodSync(join(dir, "b/criu"), 0o755);
    writeFileSync(join(dir, "c/criu"), "#!/bin/sh\n");
    chmodSync(join(dir, "c/criu"), 0o755);
    const path = ["", join(dir, "a"), join(dir, "b"), join(dir, "c")].join(":");
    // root may execute a file without x bits only if some x bit is set; a/criu has none.
    assert.equal(await findOnPath("criu", path), join(dir, "b/criu"));
    assert.equal(await findOnPath("criu", join(dir, "a")), undefined);
    assert.equal(await findOnPath("criu", ""), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("overlayUpperDir: from the snapshot's overlay mount; none for other mounts", () => {
  assert.equal(
    overlayUpperDir([{ type: "overlay", options: ["index=off", "workdir=/s/5/work", "upperdir=/s/5/fs", "lowerdir=/s/2/fs:/s/1/fs"] }]),
    "/s/5/fs",
  );
  assert.equal(overlayUpperDir([{ type: "bind", options: ["rbind", "rw"] }]), undefined);
});
