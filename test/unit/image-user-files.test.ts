import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageUserFilesCache } from "../../src/container/image-user-files.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test("ImageUserFilesCache: reads passwd and group from the snapshot once, then answers per snapshotter and chain id", async () => {
  const root = await mkdtemp(join(tmpdir(), "crib-userfiles-"));
  dirs.push(root);
  const [upper, lower] = [join(root, "upper"), join(root, "lower")];
  await mkdir(upper, { recursive: true });
  await mkdir(join(lower, "etc"), { recursive: true });
  await writeFile(join(lower, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\n");
  const mounts = [{ type: "overlay", source: "overlay", options: [`upperdir=${upper}`, `lowerdir=${lower}`] }];
  const cache = new ImageUserFilesCache();
  assert.equal(cache.get("overlayfs", "sha256:a"), undefined);

  const read = await cache.read("overlayfs", "sha256:a", mounts);
  assert.deepEqual(read, { passwd: "root:x:0:0::/root:/bin/sh\n", group: undefined });
  // Later containers of the image get the same files without a snapshot to read.
  await rm(lower, { recursive: true });
  assert.deepEqual(cache.get("overlayfs", "sha256:a"), read);
  assert.equal(cache.get("native", "sha256:a"), undefined);
  assert.equal(cache.get("overlayfs", "sha256:b"), undefined);
});
