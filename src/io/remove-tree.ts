// Removing a dir whose contents crib made itself: the files and subdirs it knows are
// unlinked and removed directly, a handful of threadpool calls. fs.rm's recursive walk
// stats, opens and lists every dir first, about four times the calls (each one a
// threadpool round trip and a promise on the event loop), for every container removed.
import { rm, rmdir, unlink } from "node:fs/promises";

export interface KnownContents {
  /** Files in the tree ("" entries are skipped). */
  files: readonly string[];
  /** Subdirs, deepest first; the tree's own dir comes last by itself. */
  dirs: readonly string[];
}

function missingIsFine(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
}

/**
 * Removes dir and what crib knows it holds; anything else found there (a dir not empty
 * after all, or any other surprise) falls back to the recursive removal. A dir that is
 * not there is fine.
 */
export async function removeKnownTree(dir: string, known: KnownContents): Promise<void> {
  try {
    await Promise.all(known.files.filter((f) => f !== "").map((f) => unlink(f).catch(missingIsFine)));
    for (const d of [...known.dirs, dir]) await rmdir(d).catch(missingIsFine);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
}
