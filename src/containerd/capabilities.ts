// What the containerd we talk to can do, detected once at start (Version +
// Introspection.Plugins), so crib keeps working on 1.6/1.7 where it is cheap to.
import type { Containerd } from "./client.js";

export interface Capabilities {
  version: string;
  revision: string;
  /** Transfer service (1.7+): pulls run inside containerd. */
  transfer: boolean;
  /** Sandbox store (1.7+). */
  sandboxStore: boolean;
  /** Streaming service (1.7+), needed for Transfer's auth callback. */
  streaming: boolean;
  snapshotters: string[];
  /** containerd's own CRI plugin is loaded. */
  criPluginLoaded: boolean;
}

interface PluginInfo {
  type: string;
  id: string;
  initErr?: unknown;
}

/** Pure part: which features a plugin list offers. */
export function capabilitiesFromPlugins(plugins: PluginInfo[], version: string, revision: string): Capabilities {
  const loaded = plugins.filter((p) => !p.initErr);
  const has = (type: string, id?: string) => loaded.some((p) => p.type === type && (id === undefined || p.id === id));
  return {
    version,
    revision,
    transfer: has("io.containerd.grpc.v1", "transfer"),
    sandboxStore: has("io.containerd.grpc.v1", "sandboxes"),
    streaming: has("io.containerd.grpc.v1", "streaming"),
    snapshotters: loaded.filter((p) => p.type === "io.containerd.snapshotter.v1").map((p) => p.id),
    // 1.x: io.containerd.grpc.v1/cri; 2.x adds io.containerd.cri.v1/{runtime,images}.
    criPluginLoaded: has("io.containerd.grpc.v1", "cri") || has("io.containerd.cri.v1", "runtime"),
  };
}

export async function detectCapabilities(cd: Containerd): Promise<Capabilities> {
  const v = await cd.version.version({});
  const res = await cd.introspection.plugins({ filters: [] });
  return capabilitiesFromPlugins(res.plugins, v.version, v.revision);
}

/** The major version of a containerd version string ("v1.7.24", "2.1.9+unknown", "1.6.20~ds1"). */
export function majorVersion(version: string): number {
  const m = /^v?(\d+)\./.exec(version.trim());
  return m ? Number(m[1]) : 0;
}

/**
 * How images are pulled: through Transfer where it takes the registry hosts dir from the
 * request (2.x), else by crib itself (1.6 has no Transfer; 1.7's ignores host_dir).
 */
export function pullPath(c: Pick<Capabilities, "transfer" | "streaming" | "version">): "transfer" | "client" {
  return c.transfer && c.streaming && majorVersion(c.version) >= 2 ? "transfer" : "client";
}
