// Reads a file of an image from its snapshot without mounting it. containerd mounts the
// rootfs in a temp dir to read /etc/passwd and /etc/group for the user; crib looks the
// file up in the snapshot's layer directories instead (overlay: upperdir, then each
// lowerdir top to bottom; bind: the one directory), honouring overlay whiteouts, which is
// what the mount would show. No mount, no privileges, no cleanup on failure.
import { lstat, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Mount } from "../gen/github.com/containerd/containerd/api/types/mount_pb.js";

/** The layer directories of a snapshot's mounts, topmost first. */
export function layerDirs(mounts: readonly Pick<Mount, "type" | "source" | "options">[]): string[] {
  if (mounts.length !== 1) return [];
  const m = mounts[0]!;
  if (m.type === "bind" || m.type === "rbind") return [m.source];
  if (m.type !== "overlay") return [];
  const dirs: string[] = [];
  const upper = m.options.find((o) => o.startsWith("upperdir="));
  if (upper) dirs.push(upper.slice("upperdir=".length));
  const lower = m.options.find((o) => o.startsWith("lowerdir="));
  if (lower) dirs.push(...lower.slice("lowerdir=".length).split(":"));
  return dirs;
}

type Lookup = { kind: "file"; path: string } | { kind: "symlink"; target: string } | { kind: "absent" };

async function lookupInLayer(layer: string, rel: string): Promise<Lookup | undefined> {
  const p = join(layer, rel);
  try {
    const st = await lstat(p);
    // An overlay whiteout (0/0 character device) hides the file of the layers below.
    if (st.isCharacterDevice() && st.rdev === 0) return { kind: "absent" };
    if (st.isSymbolicLink()) return { kind: "symlink", target: await readlink(p) };
    if (st.isFile()) return { kind: "file", path: p };
    return { kind: "absent" };
  } catch {
    return undefined; // not in this layer: look below
  }
}

/**
 * The contents of an absolute path in the snapshot, or undefined when the image has no
 * such file. Symlinks are followed inside the image (a few levels, as the kernel would).
 */
export async function readImageFile(mounts: readonly Pick<Mount, "type" | "source" | "options">[], path: string): Promise<string | undefined> {
  const layers = layerDirs(mounts);
  let current = posix.normalize(path);
  for (let hops = 0; hops < 8; hops++) {
    let found: Lookup | undefined;
    for (const layer of layers) {
      found = await lookupInLayer(layer, current);
      if (found) break;
    }
    if (!found || found.kind === "absent") return undefined;
    if (found.kind === "file") return readFile(found.path, "utf8");
    current = posix.normalize(found.target.startsWith("/") ? found.target : posix.join(posix.dirname(current), found.target));
  }
  return undefined;
}
