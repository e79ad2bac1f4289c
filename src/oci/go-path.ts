// Go's path semantics where containerd's behaviour depends on them: filepath.Clean for
// mount destinations, path.Base for cgroup parents, path.Match for annotation patterns.
// Node's path.posix differs in corner cases (trailing slashes, "" → "."), and these
// decide which mounts override which, so they are reimplemented here.

/** Go's path.Clean (== filepath.Clean on Linux). */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/** Go's path.Base. */
export function pathBase(p: string): string {
  if (p === "") return ".";
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** Go's filepath.Join for absolute or relative Linux paths. */
export function joinPath(...parts: string[]): string {
  const nonEmpty = parts.filter((x) => x !== "");
  return nonEmpty.length === 0 ? "" : cleanPath(nonEmpty.join("/"));
}

/**
 * Go's path.Match: `*` and `?` never match "/", `[...]` classes with `^` negation and
 * ranges, `\` escapes. A malformed pattern matches nothing (Go returns ErrBadPattern,
 * which containerd ignores).
 */
export function pathMatch(pattern: string, name: string): boolean {
  const re = globToRegExp(pattern);
  return re !== null && re.test(name);
}

function globToRegExp(pattern: string): RegExp | null {
  let src = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") src += "[^/]*";
    else if (c === "?") src += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= pattern.length) return null;
      src += escapeRegExp(pattern[++i]!);
    } else if (c === "[") {
      const end = classEnd(pattern, i + 1);
      if (end < 0) return null;
      const cls = classToRegExp(pattern.slice(i + 1, end));
      if (cls === null) return null;
      src += cls;
      i = end;
    } else src += escapeRegExp(c);
  }
  return new RegExp(src + "$", "s");
}

function classEnd(pattern: string, from: number): number {
  let i = from;
  if (pattern[i] === "^") i++;
  let first = true;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "]" && !first) return i;
    first = false;
  }
  return -1;
}

function classToRegExp(body: string): string | null {
  let negate = false;
  let i = 0;
  if (body[0] === "^") {
    negate = true;
    i = 1;
  }
  const chars = [...body.slice(i)];
  let out = "";
  for (let j = 0; j < chars.length; j++) {
    let lo = chars[j]!;
    if (lo === "\\") lo = chars[++j] ?? "";
    if (lo === "") return null;
    if (chars[j + 1] === "-" && j + 2 < chars.length) {
      let hi = chars[j + 2]!;
      j += 2;
      if (hi === "\\") hi = chars[++j] ?? "";
      if (hi === "" || hi < lo) return null;
      out += `${escapeClassChar(lo)}-${escapeClassChar(hi)}`;
    } else out += escapeClassChar(lo);
  }
  if (out === "") return null;
  return negate ? `[^${out}]` : `[${out}]`;
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function escapeClassChar(c: string): string {
  return c.replace(/[\]\\^-]/g, "\\$&");
}
