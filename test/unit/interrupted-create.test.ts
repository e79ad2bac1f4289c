// The start-up step that releases a shim a crash left in Tasks.Create: it holds a read end
// on the output FIFOs of never-started containers only, until close(). Whether a FIFO has
// a reader is what a non-blocking open for writing tells (ENXIO when it has none), which
// is the open the shim blocks in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
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

    assert.deepEqual(held.written, [], "no writer on any FIFO");

    await held.close();
    for (const f of [...created, ...createdTty]) assert.equal(hasReader(f), false, f);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("holdCreatedOutputs: a writer waiting on a never-started container's stdout (a shim's Create) is let through and named; writerGone sees it leave", async () => {
  const base = mkdtempSync(join(tmpdir(), "crib-interrupted-"));
  const root = join(base, "root");
  const state = join(base, "state");
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    const dirs = containerDirs(root, state, "c1");
    mkdirSync(dirs.root, { recursive: true });
    mkdirSync(dirs.io, { recursive: true });
    writeFileSync(statusPath(dirs.root), encodeStatusCheckpoint(newStatus(1_700_000_000_000_000_000n)));
    const stdout = join(dirs.io, "c1-stdout");
    const stderr = join(dirs.io, "c1-stderr");
    execFileSync("mkfifo", [stdout, stderr]);
    // As the shim: a blocking open of stdout for writing, then of stderr, held a while.
    const shim = spawn("sh", ["-c", `exec 3>"${stdout}"; exec 4>"${stderr}"; echo opened; sleep 0.3`], { stdio: ["ignore", "pipe", "ignore"] });
    const exited = new Promise((r) => shim.once("exit", r));
    let out = "";
    shim.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(out, "", "the writer waits for a reader");

    // writerGone polls on unref'd timers (crib's server keeps its loop alive): so does this.
    keepAlive = setInterval(() => undefined, 1000);
    const held = await holdCreatedOutputs(root, state);
    assert.deepEqual(held.written, ["c1"]);
    const gone = held.writerGone("c1", 5000);
    await held.close(); // the watched container's FIFOs stay open until its writer is gone
    assert.equal(await gone, true);
    await exited;
    assert.equal(out, "opened\n", "both opens went through");
    assert.equal(hasReader(stdout), false, "closed once the writer left");
  } finally {
    clearInterval(keepAlive);
    rmSync(base, { recursive: true, force: true });
  }
});

test("holdCreatedOutputs: no containers dir is nothing to hold", async () => {
  const held = await holdCreatedOutputs("/nonexistent/crib-root", "/nonexistent/crib-state");
  assert.equal(held.count, 0);
  assert.equal(held.checkpoints.size, 0);
  await held.close();
});
