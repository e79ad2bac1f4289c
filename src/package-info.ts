// Where crib is installed and which version it is: read from the package.json above this
// file, which is one level up from src/ (tsx) and two from dist/src/ (the built output).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PackageInfo {
  /** the folder holding package.json (the repository or the installed package) */
  root: string;
  version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "crib") return (cached = { root: dir, version: pkg.version ?? "unknown" });
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("crib's package.json not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}
