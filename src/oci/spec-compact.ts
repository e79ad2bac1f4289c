// Go's encoding/json drops omitempty fields that are nil or empty; crib's specs go through
// the same shape so that a spec built here and one built by containerd compare equal
// field by field (runc treats absent and empty alike either way).

/** Returns a copy without undefined values and without empty arrays, at every depth. */
export function compactSpec<T>(value: T): T {
  return compact(value) as T;
}

function compact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(compact);
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    if (Array.isArray(x) && x.length === 0) continue;
    out[k] = compact(x);
  }
  return out;
}
