// What the CRI needs to know about a containerd image (a name pointing at a manifest or an
// index): the manifest for the host platform, the config (whose digest is the image id),
// the chain id of its unpacked layers and its size, all read from containerd's content
// store. Content is addressed by digest and never changes, so results are cached by target.
import { LRUCache } from "lru-cache";
import type { Containerd } from "../containerd/client.js";
import { Code, CriError, notFound, wrap } from "../errors.js";
import { chainId, parseImageConfig, type OciImage } from "./image-config.js";
import { chooseManifest, formatPlatform, type Platform } from "./platform.js";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface ImageInfo {
  /** The config digest: the CRI image id. */
  id: string;
  chainId: string;
  /**
   * Compressed size as containerd's CRI reports it: the index (if any), the host's
   * manifest, the config and the layers, as the descriptors declare them.
   */
  size: number;
  config: OciImage;
  /** The host platform's manifest (the target itself when it is not an index). */
  manifest: Descriptor;
  configDescriptor: Descriptor;
  layers: Descriptor[];
}

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+prettyjws",
};

/** Media types of the small blobs read() parses: indexes, manifests and image configs. */
const METADATA_MEDIA_TYPES = new Set<string>([
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);

/** Blobs read at once from a pull's hints; a pull names a handful (index, manifest, config). */
const MAX_PREFETCH = 8;

/**
 * What a pull already knows about an image: blobs it holds (crib's own pull fetched them),
 * and descriptors it saw (Transfer's progress events) whose index, manifest and config
 * blobs read() then fetches all at once instead of one after the other.
 */
export interface PullHints {
  blobs?: ReadonlyMap<string, Buffer>;
  descriptors?: readonly Descriptor[];
}

const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_CONFIG_BYTES = 16 << 20;
/** Nested indexes deeper than this are refused rather than followed. */
const MAX_INDEX_DEPTH = 4;

type ParsedBlob = { kind: "index"; manifests: Descriptor[] } | { kind: "manifest"; config: Descriptor; layers: Descriptor[] };

function toDescriptor(v: unknown, where: string): Descriptor {
  const d = v as Partial<Descriptor> | null;
  if (!d || typeof d.digest !== "string" || typeof d.mediaType !== "string") throw new Error(`${where}: descriptor without digest or mediaType`);
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: typeof d.size === "number" ? d.size : 0 };
  if (d.platform && typeof d.platform === "object") out.platform = d.platform;
  if (d.annotations && typeof d.annotations === "object") out.annotations = d.annotations;
  return out;
}

/** Parses a manifest or an index blob (the media type decides, else the fields present). */
export function parseManifestBlob(mediaType: string, blob: Uint8Array, digest: string): ParsedBlob {
  if (mediaType === MEDIA_TYPES.dockerSchema1) throw new CriError(Code.FAILED_PRECONDITION, `schema 1 image manifests are no longer supported (${digest})`);
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.from(blob).toString("utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`unmarshal manifest ${digest}: ${(e as Error).message}`);
  }
  const isIndex = mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList || (!("config" in v) && Array.isArray(v["manifests"]));
  if (isIndex) {
    const list = Array.isArray(v["manifests"]) ? v["manifests"] : [];
    return { kind: "index", manifests: list.map((m) => toDescriptor(m, `index ${digest}`)) };
  }
  const layers = Array.isArray(v["layers"]) ? v["layers"] : [];
  return { kind: "manifest", config: toDescriptor(v["config"], `manifest ${digest}`), layers: layers.map((l) => toDescriptor(l, `manifest ${digest}`)) };
}

/** Reads a whole blob from containerd's content store. */
export async function readBlob(cd: Containerd, digest: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const res of cd.content.read({ digest, offset: 0n, size: 0n })) {
    total += res.data.length;
    if (total > maxBytes) throw new CriError(Code.FAILED_PRECONDITION, `blob ${digest} is larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(res.data));
  }
  return Buffer.concat(chunks);
}

export class ImageInfoReader {
  private readonly cache = new LRUCache<string, ImageInfo>({ max: 1024 });

  constructor(
    private readonly cd: Containerd,
    readonly platform: Platform,
  ) {}

  /** Image info for a target descriptor; NOT_FOUND when content is missing. */
  async read(target: Descriptor, hints?: PullHints): Promise<ImageInfo> {
    const cached = this.cache.get(target.digest);
    if (cached) return cached;
    const info = await this.walk(target, target.size, 0, this.prefetch(target, hints));
    this.cache.set(target.digest, info);
    return info;
  }

  /** The hinted blobs: those given, and reads started now for the descriptors named. */
  private prefetch(target: Descriptor, hints: PullHints | undefined): Map<string, Promise<Buffer>> {
    const known = new Map<string, Promise<Buffer>>();
    for (const [digest, blob] of hints?.blobs ?? []) known.set(digest, Promise.resolve(blob));
    if (!hints?.descriptors) return known;
    for (const d of [target, ...hints.descriptors]) {
      if (known.size >= MAX_PREFETCH) break;
      if (known.has(d.digest) || !METADATA_MEDIA_TYPES.has(d.mediaType) || d.size > MAX_CONFIG_BYTES) continue;
      const read = readBlob(this.cd, d.digest, MAX_CONFIG_BYTES);
      // A hint the walk does not follow must not leave an unhandled rejection.
      read.catch(() => {});
      known.set(d.digest, read);
    }
    return known;
  }

  private async walk(desc: Descriptor, sizeSoFar: number, depth: number, known: ReadonlyMap<string, Promise<Buffer>>): Promise<ImageInfo> {
    const parsed = parseManifestBlob(desc.mediaType, await this.blob(desc.digest, MAX_MANIFEST_BYTES, "manifest", known), desc.digest);
    if (parsed.kind === "index") {
      if (depth >= MAX_INDEX_DEPTH) throw new CriError(Code.FAILED_PRECONDITION, `index ${desc.digest} nests deeper than ${MAX_INDEX_DEPTH} levels`);
      const chosen = chooseManifest(this.platform, parsed.manifests);
      if (!chosen) throw notFound(`no match for platform ${formatPlatform(this.platform)} in manifest ${desc.digest}`);
      return this.walk(chosen, sizeSoFar + chosen.size, depth + 1, known);
    }
    const configBlob = await this.blob(parsed.config.digest, MAX_CONFIG_BYTES, "image config", known);
    const config = parseImageConfig(configBlob, parsed.config.digest);
    const layersSize = parsed.layers.reduce((n, l) => n + Math.max(0, l.size), 0);
    return {
      id: parsed.config.digest,
      chainId: chainId(config.rootfs.diff_ids),
      size: sizeSoFar + Math.max(0, parsed.config.size) + layersSize,
      config,
      manifest: desc,
      configDescriptor: parsed.config,
      layers: parsed.layers,
    };
  }

  private async blob(digest: string, max: number, what: string, known: ReadonlyMap<string, Promise<Buffer>>): Promise<Buffer> {
    try {
      const hinted = known.get(digest);
      if (!hinted) return await readBlob(this.cd, digest, max);
      const blob = await hinted;
      if (blob.length > max) throw new CriError(Code.FAILED_PRECONDITION, `blob ${digest} is larger than ${max} bytes`);
      return blob;
    } catch (e) {
      if (e instanceof CriError) throw e;
      throw wrap(e, `read ${what} ${digest} from content store`);
    }
  }
}
