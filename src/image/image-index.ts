// The in-memory index of CRI images (containerd's internal/cri/store/image): every
// containerd image name crib manages maps to an image id (the config digest); an image
// lives as long as one name points at it. Ids resolve by unique prefix ("sha256:1a2b",
// "1a2b") as go-digest's digestset does. Pure: the containerd side is in image-store.ts.
import { invalidArgument } from "../errors.js";
import type { OciImage } from "./image-config.js";
import type { Descriptor } from "./image-info.js";
import { isDigest, normalizeReference } from "./reference.js";

/** What a containerd image name says about its image, for one name. */
export interface ImageRecord {
  id: string;
  chainId: string;
  size: number;
  config: OciImage;
  /** The containerd image's target: a manifest or an index. */
  target: Descriptor;
  /** The name carries io.cri-containerd.pinned=pinned. */
  pinned: boolean;
}

export interface CriImage {
  /** Config digest, "sha256:<hex>". */
  id: string;
  /** Every containerd image name of this image (tags, digests, the id), sorted. */
  references: string[];
  chainId: string;
  size: number;
  config: OciImage;
  /** Target of the image: the id name's when it has one, else the first name's. */
  target: Descriptor;
  pinned: boolean;
}

interface Entry {
  image: CriImage;
  pinnedRefs: Set<string>;
}

export class ImageIndex {
  /** containerd image name -> image id */
  private readonly refs = new Map<string, string>();
  private readonly images = new Map<string, Entry>();

  /** Image id a containerd name points at, if crib knows the name. */
  idOf(ref: string): string | undefined {
    return this.refs.get(ref);
  }

  /**
   * Records what containerd says about one name: `record` null means the name is gone.
   * A name that moved to another image leaves the old one (which keeps its other names).
   */
  update(ref: string, record: ImageRecord | null): void {
    const oldId = this.refs.get(ref);
    if (record === null) {
      if (oldId !== undefined) {
        this.remove(oldId, ref);
        this.refs.delete(ref);
      }
      return;
    }
    if (oldId === record.id) {
      const e = this.images.get(oldId)!;
      this.setPinned(e, ref, record.pinned);
      if (ref === record.id) e.image = { ...e.image, target: record.target };
      return;
    }
    if (oldId !== undefined) this.remove(oldId, ref);
    this.refs.set(ref, record.id);
    this.add(ref, record);
  }

  private add(ref: string, r: ImageRecord): void {
    const e = this.images.get(r.id);
    if (!e) {
      const image: CriImage = { id: r.id, references: [ref], chainId: r.chainId, size: r.size, config: r.config, target: r.target, pinned: false };
      const entry = { image, pinnedRefs: new Set<string>() };
      this.images.set(r.id, entry);
      this.setPinned(entry, ref, r.pinned);
      return;
    }
    const references = [...new Set([...e.image.references, ref])].sort();
    e.image = { ...e.image, references, ...(ref === r.id ? { target: r.target } : {}) };
    this.setPinned(e, ref, r.pinned);
  }

  private setPinned(e: Entry, ref: string, pinned: boolean): void {
    if (pinned) e.pinnedRefs.add(ref);
    else e.pinnedRefs.delete(ref);
    const now = e.pinnedRefs.size > 0;
    if (e.image.pinned !== now) e.image = { ...e.image, pinned: now };
  }

  private remove(id: string, ref: string): void {
    const e = this.images.get(id);
    if (!e) return;
    const references = e.image.references.filter((r) => r !== ref);
    if (references.length === 0) {
      this.images.delete(id);
      return;
    }
    e.image = { ...e.image, references };
    this.setPinned(e, ref, false);
  }

  /**
   * An image by full id or unique id prefix ("sha256:<hex prefix>" or "<hex prefix>");
   * undefined when none matches, INVALID_ARGUMENT when the prefix is ambiguous.
   */
  get(idOrPrefix: string): CriImage | undefined {
    const exact = this.images.get(idOrPrefix);
    if (exact) return exact.image;
    if (idOrPrefix === "") return undefined;
    const colon = idOrPrefix.indexOf(":");
    const alg = colon >= 0 ? idOrPrefix.slice(0, colon) : "";
    const hex = colon >= 0 ? idOrPrefix.slice(colon + 1) : idOrPrefix;
    if (hex === "" || !/^[a-f0-9]+$/.test(hex)) return undefined;
    let found: CriImage | undefined;
    for (const [id, e] of this.images) {
      const i = id.indexOf(":");
      if ((alg === "" || id.slice(0, i) === alg) && id.slice(i + 1).startsWith(hex)) {
        if (found) throw invalidArgument(`image id prefix ${JSON.stringify(idOrPrefix)} is ambiguous`);
        found = e.image;
      }
    }
    return found;
  }

  /**
   * containerd's LocalResolve: a digest is an id; a name is normalised and looked up;
   * whatever is neither is tried as an id prefix.
   */
  resolve(refOrId: string): CriImage | undefined {
    if (isDigest(refOrId)) return this.get(refOrId);
    let normalized: string | undefined;
    try {
      normalized = normalizeReference(refOrId);
    } catch {
      normalized = undefined;
    }
    const id = normalized !== undefined ? this.refs.get(normalized) : undefined;
    return this.get(id ?? refOrId);
  }

  list(): CriImage[] {
    return [...this.images.values()].map((e) => e.image);
  }

  get size(): number {
    return this.images.size;
  }
}
