// The image's /etc/passwd and /etc/group, which a container's user and additional gids come
// from. A freshly prepared snapshot shows exactly its parent's files and a committed snapshot
// never changes, so what was read from the first container of an image (snapshotter + chain
// id) holds for every later one: CreateContainer then builds the spec while containerd still
// prepares the snapshot instead of after it.
import { LRUCache } from "lru-cache";
import type { Mount } from "../gen/github.com/containerd/containerd/api/types/mount_pb.js";
import { readImageFile } from "./container-rootfs.js";

export interface ImageUserFiles {
  passwd: string | undefined;
  group: string | undefined;
}

/** Images whose files are kept; a few KB each. */
const MAX_IMAGES = 256;

export class ImageUserFilesCache {
  private readonly byImage = new LRUCache<string, ImageUserFiles>({ max: MAX_IMAGES });

  get(snapshotter: string, chainId: string): ImageUserFiles | undefined {
    return this.byImage.get(`${snapshotter}\0${chainId}`);
  }

  /** Reads the files from a fresh snapshot of the image and remembers them. */
  async read(snapshotter: string, chainId: string, mounts: readonly Pick<Mount, "type" | "source" | "options">[]): Promise<ImageUserFiles> {
    const [passwd, group] = await Promise.all([readImageFile(mounts, "/etc/passwd"), readImageFile(mounts, "/etc/group")]);
    const files = { passwd, group };
    this.byImage.set(`${snapshotter}\0${chainId}`, files);
    return files;
  }
}
