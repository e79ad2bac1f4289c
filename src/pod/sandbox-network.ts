// A pod's network, from its sandbox config to CNI and back: the glue between the CRI
// config and src/network (which knows CNI but not the CRI).
import { join } from "node:path";
import type { Config } from "../config.js";
import { cachedCniConfig } from "../network/cni-config-cache.js";
import { setupPodNetwork, teardownPodNetwork, type PodNetworkOptions } from "../network/cni.js";
import { podCapabilityArgs, podCniArgs } from "./sandbox-cni-args.js";
import { toContainerdCniResult } from "../network/cni-result.js";
import { failedPrecondition } from "../errors.js";
import type { SandboxMetadata } from "./sandbox-store.js";

export function netnsDir(config: Config): string {
  return join(config.stateDir, "netns");
}

async function podNetworkOptions(config: Config, meta: SandboxMetadata): Promise<PodNetworkOptions> {
  const loaded = await cachedCniConfig(config.cniConfDir);
  if (!loaded.config) throw failedPrecondition(`cni config not initialized: ${loaded.loadStatus}`);
  return {
    binDirs: config.cniBinDir.split(":").filter(Boolean),
    cacheDir: join(config.rootDir, "cni-cache"),
    networks: loaded.networks,
    containerId: meta.id,
    netnsPath: meta.netnsPath,
    args: podCniArgs(meta.id, meta.config),
    capabilityArgs: podCapabilityArgs(meta.config),
  };
}

/** CNI ADD; fills the metadata's IPs and result. */
export async function attachPodNetwork(config: Config, meta: SandboxMetadata): Promise<void> {
  const setup = await setupPodNetwork(await podNetworkOptions(config, meta));
  meta.ip = setup.ip;
  meta.additionalIps = setup.additionalIps;
  meta.cniResult = toContainerdCniResult(setup.result);
}

/** CNI DEL; tolerant of a namespace or allocation that is already gone. */
export async function detachPodNetwork(config: Config, meta: SandboxMetadata): Promise<void> {
  await teardownPodNetwork(await podNetworkOptions(config, meta));
}
