// The start-up step that releases a shim a crash left in Tasks.Create: it holds a read end
// on the output FIFOs of never-started containers only, until close(). Whether a FIFO has
// a reader is what a non-blocking open for writing tells (ENXIO when it has none), which
// is the open the shim blocks in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { holdCreatedOutputs } from "../../src/container/interrupted-create.js";
import { containerDirs, encodeStatusCheckpoint, statusPath } from "../../src/container/container-metadata.js";
import { newStatus } from "../../src/container/container-store.js";

function hasReader(fifo: string): boolean {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENXIO") return false;
    throw e;
  }
}

test("holdCreatedOutputs: a CREATED container's stdout and stderr get a reader until close(); a started one's do not", async () => {
  const base = mkdtempSync(join(tmpdir(), "crib-interrupted-"));
  const root = join(base, "root");
  const state = join(base, "state");
  try {
    const make = (id: string, startedAt: bigint, tty: boolean) => {
      const dirs = containerDirs(root, state, id);
      mkdirSync(dirs.root, { recursive: true });
      mkdirSync(dirs.io, { recursive: true });
      const s = newStatus(1_700_000_000_000_000_000n);
      s.startedAt = startedAt;
      writeFileSync(statusPath(dirs.root), encodeStatusCheckpoint(s));
      const fifos = [join(dirs.io, `${id}-stdout`), ...(tty ? [] : [join(dirs.io, `${id}-stderr`)])];
      execFileSync("mkfifo", fifos);
      return fifos;
    };
    const created = make("created", 0n, false);
    const createdTty = make("created-tty", 0n, true);
    const running = make("running", 1_700_000_000_500_000_000n, false);
    // A dir without a readable checkpoint is skipped, not fatal.
    mkdirSync(join(root, "containers", "broken"), { recursive: true });
    for (const f of [...created, ...createdTty, ...running]) assert.equal(hasReader(f), false, f);

    const held = await holdCreatedOutputs(root, state);
    assert.equal(held.count, 3);
    assert.deepEqual([...held.checkpoints.keys()].sort(), ["created", "created-tty", "running"]);
    assert.equal(held.checkpoints.get("running")?.startedAt, 1_700_000_000_500_000_000n);
    // Held, not just opened and closed: the shim opens stderr only after stdout.
    for (const f of [...created, ...createdTty]) assert.equal(hasReader(f), true, f);
    for (const f of running) assert.equal(hasReader(f), false, f);

    await held.close();
    for (const f of [...created, ...createdTty]) assert.equal(hasReader(f), false, f);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("holdCreatedOutputs: no containers dir is nothing to hold", async () => {
  const held = await holdCreatedOutputs("/nonexistent/crib-root", "/nonexistent/crib-state");
  assert.equal(held.count, 0);
  assert.equal(held.checkpoints.size, 0);
  await held.close();
});
