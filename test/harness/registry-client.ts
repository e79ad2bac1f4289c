// Client-side helpers for tests: change what a tag points at, ask a registry what a tag is.
import { createHash } from "node:crypto";
import { run } from "./proc.js";

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Copies an image (an index with all its platforms) from one reference to another, e.g.
 * `pushImage(h.images.movingNext, h.images.moving)` to make a tag point at new content.
 * References are "<host>/<repo>:<tag>" on the harness registries (plain HTTP).
 */
export async function pushImage(
  srcRef: string,
  dstRef: string,
  opts: { srcCreds?: Credentials; destCreds?: Credentials } = {},
): Promise<void> {
  const args = ["copy", "-q", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false"];
  if (opts.srcCreds) args.push("--src-creds", `${opts.srcCreds.username}:${opts.srcCreds.password}`);
  if (opts.destCreds) args.push("--dest-creds", `${opts.destCreds.username}:${opts.destCreds.password}`);
  await run("skopeo", [...args, `docker://${srcRef}`, `docker://${dstRef}`]);
}

/** Splits "<host>/<repo path>:<tag>" (or "@sha256:...") into its parts. */
export function splitReference(ref: string): { host: string; repo: string; reference: string } {
  const slash = ref.indexOf("/");
  if (slash < 0) throw new Error(`reference ${ref} has no registry host`);
  const host = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  const at = rest.indexOf("@");
  if (at >= 0) return { host, repo: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(":");
  if (colon < 0) return { host, repo: rest, reference: "latest" };
  return { host, repo: rest.slice(0, colon), reference: rest.slice(colon + 1) };
}

export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
] as const;

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  body: Record<string, unknown>;
}

/** GETs a manifest (or index) the way a pull resolves it, digest computed from the bytes. */
export async function fetchManifest(ref: string, creds?: Credentials): Promise<FetchedManifest> {
  const { host, repo, reference } = splitReference(ref);
  const headers: Record<string, string> = { Accept: MANIFEST_MEDIA_TYPES.join(", ") };
  if (creds) headers.Authorization = basicAuth(creds);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`GET manifest ${ref}: HTTP ${res.status} ${bytes.toString()}`);
  return {
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    mediaType: res.headers.get("content-type") ?? "",
    body: JSON.parse(bytes.toString()) as Record<string, unknown>,
  };
}

export function basicAuth(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}
