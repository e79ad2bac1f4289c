// Docker image references, parsed and normalised as containerd's CRI does it with
// github.com/distribution/reference (ParseDockerRef, ParseAnyReference) and
// opencontainers/go-digest. The CRI records and every lookup key on the normalised form:
// "busybox" is "docker.io/library/busybox:latest"; "name:tag@digest" keeps only the digest.
import { invalidArgument } from "../errors.js";

export interface ImageReference {
  /** Registry host, with port when given: "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** Repository path below the domain: "library/busybox". */
  path: string;
  tag?: string;
  /** "sha256:<hex>", validated. */
  digest?: string;
}

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";
const DEFAULT_TAG = "latest";
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of distribution/reference (regexp.go).
const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const NAME = `(?:${DOMAIN_AND_PORT}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Hex lengths of the algorithms go-digest registers (crypto imported by containerd). */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const DIGEST_ANCHORED_RE = new RegExp(`^${DIGEST}$`);

/** go-digest's Digest.Validate, with its error words. Returns the problem or undefined. */
export function digestProblem(s: string): string | undefined {
  const i = s.indexOf(":");
  if (i <= 0 || i + 1 === s.length) return "invalid checksum digest format";
  const algorithm = s.slice(0, i);
  const encoded = s.slice(i + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return DIGEST_ANCHORED_RE.test(s) ? "unsupported digest algorithm" : "invalid checksum digest format";
  if (encoded.length !== length) return "invalid checksum digest length";
  if (!/^[a-f0-9]+$/.test(encoded)) return "invalid checksum digest format";
  return undefined;
}

export function isDigest(s: string): boolean {
  return digestProblem(s) === undefined;
}

export function referenceName(r: ImageReference): string {
  return `${r.domain}/${r.path}`;
}

export function formatReference(r: ImageReference): string {
  return referenceName(r) + (r.tag !== undefined ? `:${r.tag}` : "") + (r.digest !== undefined ? `@${r.digest}` : "");
}

/** splitDockerDomain: the first component is a registry only if it looks like a host. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = i === -1 ? "" : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

function invalid(input: string, problem: string) {
  return invalidArgument(`failed to parse image reference ${JSON.stringify(input)}: ${problem}`);
}

/** reference.Parse on an already domain-qualified string. */
function parseQualified(input: string, s: string, domain: string): ImageReference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === "") throw invalid(input, "repository name must have at least one component");
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid(input, "repository name must be lowercase");
    throw invalid(input, "invalid reference format");
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw invalid(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const ref: ImageReference = { domain, path: name.slice(domain.length + 1) };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) {
    const problem = digestProblem(m[3]);
    if (problem) throw invalid(input, problem);
    ref.digest = m[3];
  }
  return ref;
}

/** reference.ParseNormalizedNamed: adds docker.io and library/ where a docker CLI would. */
export function parseNormalizedNamed(s: string): ImageReference {
  if (IDENTIFIER_RE.test(s)) throw invalid(s, `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(":");
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) throw invalid(s, `invalid reference format: repository name (${remoteName}) must be lowercase`);
  return parseQualified(s, `${domain}/${remainder}`, domain);
}

/**
 * reference.ParseDockerRef, the form containerd's CRI stores and looks images up by: a
 * digested reference drops its tag, an undigested one gets "latest" when it has no tag.
 */
export function parseDockerRef(s: string): ImageReference {
  const named = parseNormalizedNamed(s);
  if (named.digest !== undefined) return { domain: named.domain, path: named.path, digest: named.digest };
  return { domain: named.domain, path: named.path, tag: named.tag ?? DEFAULT_TAG };
}

export function normalizeReference(s: string): string {
  return formatReference(parseDockerRef(s));
}

export type AnyReference = { kind: "digest"; digest: string } | { kind: "named"; ref: ImageReference };

/** reference.ParseAnyReference: a bare 64-hex id or a digest, else a named reference. */
export function parseAnyReference(s: string): AnyReference {
  if (IDENTIFIER_RE.test(s)) return { kind: "digest", digest: `sha256:${s}` };
  if (isDigest(s)) return { kind: "digest", digest: s };
  return { kind: "named", ref: parseNormalizedNamed(s) };
}

/**
 * The repo tag and repo digest a pull records (util.GetRepoDigestAndTag): the tag only
 * when the reference had one, the digest always (the reference's own, else name@manifest).
 */
export function repoDigestAndTag(ref: ImageReference, targetDigest: string): { repoDigest: string; repoTag: string } {
  const name = referenceName(ref);
  return {
    repoTag: ref.tag !== undefined && ref.digest === undefined ? `${name}:${ref.tag}` : "",
    repoDigest: `${name}@${ref.digest ?? targetDigest}`,
  };
}

/** util.ParseImageReferences: containerd image names split into CRI repo tags and digests. */
export function repoTagsAndDigests(names: readonly string[]): { repoTags: string[]; repoDigests: string[] } {
  const repoTags: string[] = [];
  const repoDigests: string[] = [];
  for (const name of names) {
    let parsed: AnyReference;
    try {
      parsed = parseAnyReference(name);
    } catch {
      continue;
    }
    if (parsed.kind !== "named") continue;
    if (parsed.ref.digest !== undefined) repoDigests.push(formatReference(parsed.ref));
    else if (parsed.ref.tag !== undefined) repoTags.push(formatReference(parsed.ref));
  }
  return { repoTags, repoDigests };
}
