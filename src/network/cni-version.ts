// CNI spec versions ("0.3.1", "1.0.0"): parsing and comparison, which decide the result
// format a plugin speaks and whether DEL gets prevResult or CHECK is allowed.

/** The newest spec version crib understands (results and configs above it are refused). */
export const MAX_CNI_VERSION = "1.1.0";

const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)$/;

export function isValidCniVersion(v: string): boolean {
  return VERSION_RE.test(v);
}

function parts(v: string): [number, number, number] {
  // An empty version means 0.1.0, the version before the field existed (libcni's rule).
  const m = VERSION_RE.exec(v === "" ? "0.1.0" : v);
  if (!m) throw new Error(`invalid CNI version ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Negative, zero or positive like a sort comparator; throws on a malformed version. */
export function compareCniVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

export function cniVersionAtLeast(v: string, min: string): boolean {
  return compareCniVersions(v, min) >= 0;
}
