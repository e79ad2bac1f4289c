// The result cache libcni keeps at <cacheDir>/results/<network>-<containerID>-<ifname>
// ("cniCacheV1"). Written in the same format so that DEL finds its prevResult after a crib
// restart or a crash before the result reached containerd, and so that containerd's CRI
// and crib can tear down each other's attachments on the same node.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { NetworkConfigList } from "./cni-config.js";
import type { CapabilityArgs } from "./cni-plugin-input.js";

export const DEFAULT_CNI_CACHE_DIR = "/var/lib/cni";
const KIND = "cniCacheV1";

export interface CachedAttachment {
  containerId: string;
  networkName: string;
  ifName: string;
  netns: string;
  cniArgs: [string, string][];
  capabilityArgs: CapabilityArgs | undefined;
  /** The list's config JSON at the time of ADD. */
  config: string;
  /** The final plugin's result as it printed it. */
  result: unknown;
}

export function cacheFilePath(cacheDir: string, networkName: string, containerId: string, ifName: string): string {
  if (!networkName || !containerId || !ifName) {
    throw new Error(
      `cache file path requires network name (${JSON.stringify(networkName)}), container ID (${JSON.stringify(containerId)}), and interface name (${JSON.stringify(ifName)})`,
    );
  }
  return join(cacheDir, "results", `${networkName}-${containerId}-${ifName}`);
}

export async function writeCachedAttachment(
  cacheDir: string,
  network: NetworkConfigList,
  a: Omit<CachedAttachment, "networkName" | "config">,
): Promise<void> {
  const file = cacheFilePath(cacheDir, network.name, a.containerId, a.ifName);
  const doc: Record<string, unknown> = {
    kind: KIND,
    containerId: a.containerId,
    // Go's encoding/json writes the []byte config as base64.
    config: Buffer.from(network.bytes, "utf8").toString("base64"),
    ifName: a.ifName,
    networkName: network.name,
  };
  if (a.netns) doc.netns = a.netns;
  if (a.cniArgs.length) doc.cniArgs = a.cniArgs;
  if (a.capabilityArgs && Object.keys(a.capabilityArgs).length) doc.capabilityArgs = a.capabilityArgs;
  if (a.result !== undefined && a.result !== null) doc.result = a.result;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Write-then-rename: a crash never leaves a torn cache entry for DEL to trip over.
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(doc), { mode: 0o600 });
  await rename(tmp, file);
}

/** The cached attachment, or undefined when absent or unreadable (libcni ignores those). */
export async function readCachedAttachment(
  cacheDir: string,
  networkName: string,
  containerId: string,
  ifName: string,
): Promise<CachedAttachment | undefined> {
  let text: string;
  try {
    text = await readFile(cacheFilePath(cacheDir, networkName, containerId, ifName), "utf8");
  } catch {
    return undefined;
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null || doc.kind !== KIND) return undefined;
  return {
    containerId,
    networkName,
    ifName,
    netns: typeof doc.netns === "string" ? doc.netns : "",
    cniArgs: Array.isArray(doc.cniArgs) ? (doc.cniArgs as [string, string][]) : [],
    capabilityArgs: (doc.capabilityArgs as CapabilityArgs | undefined) ?? undefined,
    config: typeof doc.config === "string" ? Buffer.from(doc.config, "base64").toString("utf8") : "",
    result: doc.result,
  };
}

export async function deleteCachedAttachment(cacheDir: string, networkName: string, containerId: string, ifName: string): Promise<void> {
  await rm(cacheFilePath(cacheDir, networkName, containerId, ifName), { force: true });
}
