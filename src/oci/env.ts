// Environment merging as containerd's oci.WithEnv (replaceOrAppendEnvValues) does it:
// an override replaces the entry with the same key in place, a new key is appended, and
// a bare "KEY" (no "=") unsets KEY.
//
// One deliberate difference: containerd 2.1 only indexes the keys of `base`, so a key set
// by both the image and the CRI config (both are overrides of the same WithEnv call)
// ends up twice in process.env (containerd#7348, fix pending in containerd#13929). crib
// collapses them so the CRI config's value wins, which is what the CRI promises and what
// `printenv` in a containerd container shows.

function keyOf(entry: string): { key: string; hasValue: boolean } {
  const eq = entry.indexOf("=");
  return eq < 0 ? { key: entry, hasValue: false } : { key: entry.slice(0, eq), hasValue: true };
}

export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const result: (string | null)[] = [...base];
  const index = new Map<string, number>();
  result.forEach((e, i) => index.set(keyOf(e!).key, i));
  for (const value of overrides) {
    const { key, hasValue } = keyOf(value);
    const at = index.get(key);
    if (!hasValue) {
      if (at !== undefined) {
        result[at] = null;
        index.delete(key);
      }
      continue;
    }
    if (at !== undefined) result[at] = value;
    else {
      index.set(key, result.length);
      result.push(value);
    }
  }
  return result.filter((e): e is string => e !== null);
}
