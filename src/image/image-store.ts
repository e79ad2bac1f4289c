// crib's CRI image store: the in-memory index (image-index.ts) kept in step with
// containerd's image records. containerd is the source of truth; the index is rebuilt from
// it at start (containerd's CheckImages + UpdateImage) and updated by every pull and
// remove. Lookups never call containerd, so ListImages/ImageStatus cost no round trip.
import type { Containerd } from "../containerd/client.js";
import { isNotFound, messageOf, wrap } from "../errors.js";
import type { Logger } from "../log.js";
import type { Descriptor, ImageInfo, ImageInfoReader } from "./image-info.js";
import { createOrUpdateImage, criImageLabels, descriptorFromProto, IMAGE_LABEL, isPinned, PINNED_LABEL } from "./image-records.js";
import { ImageIndex, type CriImage, type ImageRecord } from "./image-index.js";

export type { CriImage } from "./image-index.js";

export interface ImageStoreOptions {
  containerd: Containerd;
  reader: ImageInfoReader;
  /** The snapshotter images are unpacked into (config snapshotter). */
  snapshotter: string;
  /** Normalised names that are pinned (the sandbox image). */
  pinnedNames: ReadonlySet<string>;
  logger: Logger;
}

/** containerd images checked at once while loading. */
const LOAD_CONCURRENCY = 8;

export function imageRecord(info: ImageInfo, target: Descriptor, pinned: boolean): ImageRecord {
  return { id: info.id, chainId: info.chainId, size: info.size, config: info.config, target, pinned };
}

export class ImageStore {
  private readonly index = new ImageIndex();
  private readonly cd: Containerd;

  constructor(private readonly opts: ImageStoreOptions) {
    this.cd = opts.containerd;
  }

  get reader(): ImageInfoReader {
    return this.opts.reader;
  }

  get snapshotter(): string {
    return this.opts.snapshotter;
  }

  get pinnedNames(): ReadonlySet<string> {
    return this.opts.pinnedNames;
  }

  /** An image by reference ("busybox", "h/x@sha256:..") or id / unique id prefix. */
  resolve(refOrId: string): CriImage | undefined {
    return this.index.resolve(refOrId);
  }

  /** An image by full id or unique id prefix. */
  get(idOrPrefix: string): CriImage | undefined {
    return this.index.get(idOrPrefix);
  }

  list(): CriImage[] {
    return this.index.list();
  }

  /** Image id a containerd image name points at, as far as crib knows. */
  idOf(name: string): string | undefined {
    return this.index.idOf(name);
  }

  /** Records a name crib just wrote (no containerd call). */
  record(name: string, info: ImageInfo, target: Descriptor, pinned: boolean): void {
    this.index.update(name, imageRecord(info, target, pinned));
  }

  /** Records a name crib just deleted. */
  forget(name: string): void {
    this.index.update(name, null);
  }

  /** Re-reads one name from containerd (containerd's imageStore.Update). */
  async refresh(name: string): Promise<void> {
    let image;
    try {
      image = (await this.cd.images.get({ name })).image;
    } catch (e) {
      if (!isNotFound(e)) throw wrap(e, `get image ${JSON.stringify(name)} from containerd`);
    }
    const target = descriptorFromProto(image?.target);
    if (!image || !target) {
      this.forget(name);
      return;
    }
    const info = await this.opts.reader.read(target);
    this.record(name, info, target, isPinned(image.labels));
  }

  /** Whether the image's layers are unpacked in crib's snapshotter (its chain id snapshot exists). */
  /**
   * Whether an image in the store has this chain id: its snapshot was found unpacked and the
   * image keeps it from containerd's GC, so another image with the same layers is unpacked
   * too without asking (tags of one image, images built on one base).
   */
  knownUnpacked(chainId: string): boolean {
    return this.index.list().some((i) => i.chainId === chainId);
  }

  async isUnpacked(chainId: string): Promise<boolean> {
    if (chainId === "") return true;
    try {
      await this.cd.snapshots.stat({ snapshotter: this.opts.snapshotter, key: chainId });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw wrap(e, `stat snapshot ${chainId} in ${this.opts.snapshotter}`);
    }
  }

  /**
   * Rebuilds the index from every image in the namespace. An image whose content is
   * incomplete or that is not unpacked is left out (a pull repairs it); one that lacks
   * the CRI labels or its id name gets them, as containerd's CRI does at start.
   */
  async load(): Promise<{ images: number; skipped: number }> {
    const { images } = await this.cd.images.list({ filters: [] });
    let skipped = 0;
    const unpacked = new Map<string, Promise<boolean>>();
    const queue = [...images];
    const worker = async () => {
      for (let img = queue.shift(); img; img = queue.shift()) {
        const name = img.name;
        const target = descriptorFromProto(img.target);
        try {
          if (!target) throw new Error("image has no target");
          const info = await this.opts.reader.read(target);
          let ready = unpacked.get(info.chainId);
          if (!ready) unpacked.set(info.chainId, (ready = this.isUnpacked(info.chainId)));
          if (!(await ready)) {
            skipped++;
            this.opts.logger.warn("image is not unpacked, leaving it out until pulled again", { image: name, snapshotter: this.opts.snapshotter });
            continue;
          }
          await this.adopt(name, img.labels, target, info);
        } catch (e) {
          skipped++;
          this.opts.logger.warn("image content is not ready, leaving it out until pulled again", { image: name, error: messageOf(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, images.length) }, worker));
    return { images: this.index.size, skipped };
  }

  /** UpdateImage: give a name the CRI labels (and its image an id name) if it lacks them. */
  private async adopt(name: string, labels: Record<string, string>, target: Descriptor, info: ImageInfo): Promise<void> {
    const want = criImageLabels(name, this.opts.pinnedNames);
    const missing = labels[IMAGE_LABEL] !== want[IMAGE_LABEL] || (want[PINNED_LABEL] !== undefined && labels[PINNED_LABEL] !== want[PINNED_LABEL]);
    if (missing) {
      const id = await createOrUpdateImage(this.cd, info.id, target, want);
      this.record(info.id, info, target, id.pinned);
      await createOrUpdateImage(this.cd, name, target, want);
    }
    // A pinned label is added where due, never taken away.
    this.record(name, info, target, isPinned(labels) || isPinned(want));
  }
}
