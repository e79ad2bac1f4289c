// containerd's truncindex: an object named by its full id or by a unique prefix of it.

/** The value whose id is idOrPrefix or, failing that, the only one whose id starts with it. */
export function findByIdOrPrefix<T>(byId: ReadonlyMap<string, T>, idOrPrefix: string): T | undefined {
  if (idOrPrefix === "") return undefined;
  const exact = byId.get(idOrPrefix);
  if (exact) return exact;
  let found: T | undefined;
  for (const [id, v] of byId) {
    if (id.startsWith(idOrPrefix)) {
      if (found) return undefined; // ambiguous prefix
      found = v;
    }
  }
  return found;
}
