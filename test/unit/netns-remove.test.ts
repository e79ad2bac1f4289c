// removeNetns/netnsExists on paths that are not namespace mounts: no privileges needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, symlink, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { netnsExists, removeNetns } from "../../src/network/netns.js";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "crib-netns-unit-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("removeNetns of a missing path succeeds (idempotent)", async () => {
  await withTempDir(async (dir) => {
    await removeNetns(join(dir, "cni-missing"));
    await removeNetns(join(dir, "cni-missing"));
  });
});

test("removeNetns unlinks a left-over mount point file that is no longer mounted", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "cni-stale");
    await writeFile(path, "");
    assert.equal(await netnsExists(path), false);
    await removeNetns(path);
    assert.deepEqual(await readdir(dir), []);
  });
});

test("removeNetns removes the target of a symlink and the link", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "cni-target");
    await writeFile(target, "");
    await symlink(target, join(dir, "link"));
    await removeNetns(join(dir, "link"));
    assert.deepEqual(await readdir(dir), []);
  });
});

test("netnsExists is true for a namespace file and false for missing paths", async () => {
  assert.equal(await netnsExists(`/proc/${process.pid}/ns/net`), true);
  assert.equal(await netnsExists("/nonexistent/cni-x"), false);
});
