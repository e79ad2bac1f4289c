// removeKnownTree on real dirs: the known contents go with unlink/rmdir, anything else
// found makes it fall back to the recursive removal, and a missing tree is fine.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeKnownTree } from "../../src/io/remove-tree.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "crib-rmtree-"));
  dirs.push(d);
  return d;
}

test("removes the files and subdirs it is told about, and the dir", async () => {
  const base = await tempDir();
  const dir = join(base, "c1");
  await mkdir(join(dir, "io"), { recursive: true });
  await writeFile(join(dir, "status"), "{}");
  await writeFile(join(dir, "io", "c1-stdout"), "");
  await removeKnownTree(dir, { files: [join(dir, "status"), join(dir, "io", "c1-stdout"), ""], dirs: [join(dir, "io")] });
  assert.equal(existsSync(dir), false);
  assert.deepEqual(await readdir(base), []);
});

test("a file it was not told about is removed by the recursive fallback", async () => {
  const base = await tempDir();
  const dir = join(base, "c2");
  await mkdir(join(dir, "volumes", "v1"), { recursive: true });
  await writeFile(join(dir, "status"), "{}");
  await writeFile(join(dir, "volumes", "v1", "data"), "x");
  await writeFile(join(dir, "status.tmp-1-abc"), "{}");
  await removeKnownTree(dir, { files: [join(dir, "status")], dirs: [] });
  assert.equal(existsSync(dir), false);
  assert.deepEqual(await readdir(base), []);
});

test("known files already gone and a missing dir are fine", async () => {
  const base = await tempDir();
  const dir = join(base, "c3");
  await mkdir(dir);
  await removeKnownTree(dir, { files: [join(dir, "status")], dirs: [join(dir, "io")] });
  assert.equal(existsSync(dir), false);
  await removeKnownTree(join(base, "never-made"), { files: [join(base, "never-made", "status")], dirs: [] });
  assert.deepEqual(await readdir(base), []);
});
