import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { layerDirs, readImageFile } from "../../src/container/container-rootfs.js";
import { runCommand } from "../../src/io/run-command.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const overlay = (upper: string, lowers: string[]) => [
  { type: "overlay", source: "overlay", options: ["index=off", `workdir=${upper}-work`, `upperdir=${upper}`, `lowerdir=${lowers.join(":")}`] },
];

test("layerDirs: overlay upper then lowers, bind source, nothing for other shapes", () => {
  assert.deepEqual(layerDirs(overlay("/u", ["/l1", "/l2"])), ["/u", "/l1", "/l2"]);
  assert.deepEqual(layerDirs([{ type: "overlay", source: "overlay", options: ["lowerdir=/a:/b"] }]), ["/a", "/b"]);
  assert.deepEqual(layerDirs([{ type: "bind", source: "/snap/fs", options: ["rbind", "ro"] }]), ["/snap/fs"]);
  assert.deepEqual(layerDirs([]), []);
  assert.deepEqual(layerDirs([{ type: "tmpfs", source: "x", options: [] }]), []);
});

test("readImageFile: topmost layer wins, whiteouts hide, symlinks are followed inside the image", async () => {
  const root = await mkdtemp(join(tmpdir(), "crib-rootfs-"));
  dirs.push(root);
  const [upper, l1, l2] = ["upper", "l1", "l2"].map((d) => join(root, d)) as [string, string, string];
  for (const d of [upper, l1, l2]) await mkdir(join(d, "etc"), { recursive: true });
  await writeFile(join(l2, "etc", "passwd"), "old\n");
  await writeFile(join(l1, "etc", "passwd"), "new\n");
  await writeFile(join(l2, "etc", "group"), "gone\n");
  // An overlay whiteout in a higher layer deletes the lower file.
  const r = await runCommand("mknod", [join(l1, "etc", "group"), "c", "0", "0"]);
  assert.equal(r.code, 0, r.stderr);
  await writeFile(join(l2, "etc", "real-hosts"), "hosts\n");
  await symlink("real-hosts", join(upper, "etc", "hosts"));
  await symlink("/etc/passwd", join(l2, "etc", "abs-link"));

  const mounts = overlay(upper, [l1, l2]);
  assert.equal(await readImageFile(mounts, "/etc/passwd"), "new\n");
  assert.equal(await readImageFile(mounts, "/etc/group"), undefined);
  assert.equal(await readImageFile(mounts, "/etc/hosts"), "hosts\n");
  assert.equal(await readImageFile(mounts, "/etc/abs-link"), "new\n");
  assert.equal(await readImageFile(mounts, "/etc/missing"), undefined);
  assert.equal(await readImageFile([{ type: "bind", source: l2, options: [] }], "/etc/passwd"), "old\n");
});
