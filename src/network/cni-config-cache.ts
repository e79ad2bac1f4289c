// The loaded CNI network config of a conf_dir, kept until the directory changes: Status
// (polled by the kubelet every few seconds) and every RunPodSandbox read it, and parsing
// the files each time cost more than the RPC. A watch on the directory (inotify, as
// containerd's CNI conf syncer uses fsnotify) drops the cached value on any change; a
// directory that does not exist yet is not watched, so it is read each time until it does.
import { watch, type FSWatcher } from "node:fs";
import { loadCniConfig } from "./cni-config.js";

type Loaded = Awaited<ReturnType<typeof loadCniConfig>>;

class CachedCniConfig {
  private cached: Promise<Loaded> | undefined;
  private watcher: FSWatcher | undefined;

  constructor(private readonly dir: string) {}

  load(): Promise<Loaded> {
    if (this.cached) return this.cached;
    this.watch();
    const loading = loadCniConfig(this.dir);
    if (this.watcher) {
      this.cached = loading;
      loading.catch(() => this.invalidate());
    }
    return loading;
  }

  /** Forgets the value and the watch (a removed and re-made directory needs a new one). */
  invalidate(): void {
    this.cached = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  private watch(): void {
    if (this.watcher) return;
    try {
      // persistent: false, so the watch never keeps the process alive.
      const w = watch(this.dir, { persistent: false }, () => this.invalidate());
      w.on("error", () => this.invalidate());
      this.watcher = w;
    } catch {
      // No such directory (yet): read each time.
    }
  }
}

const byDir = new Map<string, CachedCniConfig>();

function cacheOf(dir: string): CachedCniConfig {
  let c = byDir.get(dir);
  if (!c) byDir.set(dir, (c = new CachedCniConfig(dir)));
  return c;
}

/** loadCniConfig(dir), answered from memory while the directory is unchanged. */
export function cachedCniConfig(dir: string): Promise<Loaded> {
  return cacheOf(dir).load();
}

/** For writers of the directory that must see their change at once (UpdateRuntimeConfig). */
export function invalidateCniConfig(dir: string): void {
  cacheOf(dir).invalidate();
}
