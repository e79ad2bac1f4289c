// Network lists and pod networks, with libcni's and go-cni's semantics: ADD runs a list's
// plugins in order, each getting the previous result; DEL runs them in reverse with the
// cached result; a pod is attached to the loopback network on "lo" first and then to its
// networks (eth0, ...), and torn down tolerantly so StopPodSandbox can always finish.
import { LOOPBACK_NETWORK, CNI_NOT_INITIALIZED, interfaceNameFor, type NetworkConfigList, type PluginConfig } from "./cni-config.js";
import { deleteCachedAttachment, readCachedAttachment, writeCachedAttachment, DEFAULT_CNI_CACHE_DIR } from "./cni-cache.js";
import { CniPluginError, execPlugin, findPlugin, type ExecPluginOptions } from "./cni-exec.js";
import {
  buildPluginStdin,
  cniArgPairs,
  validateAttachment,
  type CapabilityArgs,
  type CniArgs,
  type CniCommand,
} from "./cni-plugin-input.js";
import { mergeCniResults, parseCniResult, podIPs, type CniResult, type IpPreference, type PodNetworkResult } from "./cni-result.js";
import { cniVersionAtLeast } from "./cni-version.js";
import { netnsExists } from "./netns.js";

export interface CniRuntimeOptions extends ExecPluginOptions {
  /** Where plugin binaries are looked up, in order (cni.bin_dir, split on ':'). */
  binDirs: readonly string[];
  /** libcni-format result cache; null disables it (default /var/lib/cni). */
  cacheDir?: string | null;
}

export interface CniAttachmentOptions {
  /** The sandbox id (CNI_CONTAINERID). */
  containerId: string;
  /** CNI_NETNS; "" for DEL when the namespace is gone. */
  netnsPath: string;
  /** Default eth0. */
  ifName?: string;
  args?: CniArgs;
  capabilityArgs?: CapabilityArgs;
}

export interface CniListOptions extends CniRuntimeOptions, CniAttachmentOptions {
  netConf: NetworkConfigList;
}

export interface CniAddResult {
  /** The final result in CNI 1.0 form. */
  result: CniResult;
  /** The final plugin's output exactly as printed (what DEL later gets as prevResult). */
  raw: unknown;
}

function describePlugin(p: PluginConfig): string {
  const name = typeof p.raw.name === "string" && p.raw.name ? ` name=${JSON.stringify(p.raw.name)}` : "";
  return `plugin type=${JSON.stringify(p.type)}${name}`;
}

function cacheDirOf(o: CniRuntimeOptions): string | null {
  return o.cacheDir === undefined ? DEFAULT_CNI_CACHE_DIR : o.cacheDir;
}

function checkAttachment(o: CniListOptions, ifName: string): void {
  const problem = validateAttachment(o.containerId, o.netConf.name, ifName);
  if (problem) throw new Error(`invalid CNI attachment: ${problem}`);
}

async function invoke(
  o: CniListOptions,
  plugin: PluginConfig,
  command: CniCommand,
  ifName: string,
  prevResult: unknown,
): Promise<string> {
  const path = await findPlugin(plugin.type, o.binDirs);
  const stdin = buildPluginStdin(o.netConf, plugin, prevResult, o.capabilityArgs);
  const env = { command, containerId: o.containerId, netns: o.netnsPath, ifName, args: o.args, binDirs: o.binDirs };
  return execPlugin(path, stdin, env, o);
}

function inContext(e: unknown, plugin: PluginConfig, op: string): Error {
  const context = `${describePlugin(plugin)} failed (${op})`;
  if (e instanceof CniPluginError) return e.withContext(context);
  return new Error(`${context}: ${(e as Error).message}`, { cause: e });
}

/** Runs ADD through the list's plugins in order; records the result in the cache. */
export async function cniAdd(o: CniListOptions): Promise<CniAddResult> {
  const ifName = o.ifName ?? "eth0";
  checkAttachment(o, ifName);
  let raw: unknown = undefined;
  let result: CniResult | undefined;
  for (const plugin of o.netConf.plugins) {
    try {
      const stdout = await invoke(o, plugin, "ADD", ifName, raw);
      raw = JSON.parse(stdout);
      result = parseCniResult(raw);
    } catch (e) {
      throw inContext(e instanceof SyntaxError ? new Error(`failed to decode result: ${e.message}`) : e, plugin, "add");
    }
  }
  const cacheDir = cacheDirOf(o);
  if (cacheDir) {
    try {
      await writeCachedAttachment(cacheDir, o.netConf, {
        containerId: o.containerId,
        ifName,
        netns: o.netnsPath,
        cniArgs: cniArgPairs(o.args),
        capabilityArgs: o.capabilityArgs,
        result: raw,
      });
    } catch (e) {
      throw new Error(`failed to set network ${JSON.stringify(o.netConf.name)} cached result: ${(e as Error).message}`, { cause: e });
    }
  }
  return { result: result!, raw };
}

async function previousResult(o: CniListOptions, ifName: string, given: unknown): Promise<unknown> {
  if (given !== undefined) return given;
  const cacheDir = cacheDirOf(o);
  if (!cacheDir) return undefined;
  return (await readCachedAttachment(cacheDir, o.netConf.name, o.containerId, ifName))?.result;
}

/**
 * Runs DEL through the list's plugins in reverse order. prevResult (spec 0.4.0+) is the
 * given one, else the cached ADD result. Plugins must treat DEL of something already
 * gone as success, so repeating it is safe.
 */
export async function cniDel(o: CniListOptions & { prevResult?: unknown }): Promise<void> {
  const ifName = o.ifName ?? "eth0";
  checkAttachment(o, ifName);
  const withPrev = cniVersionAtLeast(o.netConf.cniVersion, "0.4.0");
  const prev = withPrev ? await previousResult(o, ifName, o.prevResult) : undefined;
  for (const plugin of [...o.netConf.plugins].reverse()) {
    try {
      await invoke(o, plugin, "DEL", ifName, prev);
    } catch (e) {
      throw inContext(e, plugin, "delete");
    }
  }
  const cacheDir = cacheDirOf(o);
  if (cacheDir) await deleteCachedAttachment(cacheDir, o.netConf.name, o.containerId, ifName).catch(() => {});
}

/** Runs CHECK (spec 0.4.0+) through the list's plugins in order; no-op with disableCheck. */
export async function cniCheck(o: CniListOptions & { prevResult?: unknown }): Promise<void> {
  const ifName = o.ifName ?? "eth0";
  checkAttachment(o, ifName);
  if (!cniVersionAtLeast(o.netConf.cniVersion, "0.4.0")) {
    throw new Error(`configuration version ${JSON.stringify(o.netConf.cniVersion)} does not support the CHECK command`);
  }
  if (o.netConf.disableCheck) return;
  const prev = await previousResult(o, ifName, o.prevResult);
  for (const plugin of o.netConf.plugins) {
    try {
      await invoke(o, plugin, "CHECK", ifName, prev);
    } catch (e) {
      throw inContext(e, plugin, "check");
    }
  }
}

export interface PodNetworkOptions extends CniRuntimeOptions {
  /** The loaded networks: the default one first (eth0), then eth1, ... */
  networks: readonly NetworkConfigList[];
  containerId: string;
  netnsPath: string;
  args?: CniArgs;
  capabilityArgs?: CapabilityArgs;
  /** Attach the loopback plugin on "lo" first (default true; containerd's default). */
  loopback?: boolean;
  /** Interface name prefix (default "eth"). */
  ifPrefix?: string;
}

export interface PodNetworkAttachment {
  network: string;
  ifName: string;
  /** The list's final result as the plugin printed it. */
  raw: unknown;
}

export interface PodNetworkSetup {
  /** The pod IP (containerd's selectPodIPs on the default interface). */
  ip: string;
  additionalIps: string[];
  /** Merged per-interface view (toContainerdCniResult gives containerd's JSON). */
  result: PodNetworkResult;
  attachments: PodNetworkAttachment[];
}

function podAttachments(o: PodNetworkOptions): { network: NetworkConfigList; ifName: string }[] {
  const prefix = o.ifPrefix ?? "eth";
  const list = o.networks.map((network, i) => ({ network, ifName: interfaceNameFor(i, prefix) }));
  return o.loopback === false ? list : [{ network: LOOPBACK_NETWORK, ifName: "lo" }, ...list];
}

/**
 * Attaches a pod's namespace to loopback and its networks and picks its IPs. Plugins may
 * have allocated resources even when this throws: like containerd's RunPodSandbox, the
 * caller registers teardownPodNetwork in its undo stack before calling this.
 */
export async function setupPodNetwork(o: PodNetworkOptions, ipPreference: IpPreference | string = "ipv4"): Promise<PodNetworkSetup> {
  if (o.networks.length === 0) throw new Error(CNI_NOT_INITIALIZED);
  const attachments: PodNetworkAttachment[] = [];
  const results: CniResult[] = [];
  // The attachments are independent (one interface each): like go-cni's attachNetworks
  // they run at once, and the first failure in their order is reported once all settled.
  const wanted = podAttachments(o);
  const settled = await Promise.allSettled(wanted.map(({ network, ifName }) => cniAdd({ ...o, netConf: network, ifName })));
  for (const r of settled) if (r.status === "rejected") throw r.reason;
  wanted.forEach(({ network, ifName }, i) => {
    const added = (settled[i] as PromiseFulfilledResult<CniAddResult>).value;
    attachments.push({ network: network.name, ifName, raw: added.raw });
    // go-cni leaves the loopback result out of the pod's merged result.
    if (network !== LOOPBACK_NETWORK) results.push(added.result);
  });
  const defaultIf = interfaceNameFor(0, o.ifPrefix ?? "eth");
  const result = mergeCniResults(results, defaultIf);
  let ips;
  try {
    ips = podIPs(result, ipPreference, defaultIf);
  } catch {
    throw new Error(`failed to find network info for sandbox ${JSON.stringify(o.containerId)}`);
  }
  return { ip: ips.ip, additionalIps: ips.additionalIps, result, attachments };
}

/** go-cni's Remove tolerance: errors that mean "already gone". */
function isAlreadyGone(e: unknown, netnsPath: string): boolean {
  const text = (e as Error)?.message ?? String(e);
  return (netnsPath === "" && text.includes("no such file or directory")) || text.includes("not found");
}

/**
 * Detaches a pod from loopback and its networks. When the namespace no longer exists,
 * CNI_NETNS is empty, as the spec allows for best-effort cleanup. Every network is tried;
 * the first real failure is thrown afterwards. Repeating it is safe.
 */
export async function teardownPodNetwork(
  o: PodNetworkOptions & { prevResults?: Readonly<Record<string, unknown>> },
): Promise<void> {
  if (o.networks.length === 0) throw new Error(CNI_NOT_INITIALIZED);
  const netnsPath = o.netnsPath && (await netnsExists(o.netnsPath)) ? o.netnsPath : "";
  const failures: Error[] = [];
  // Independent attachments, torn down at once (go-cni's Remove goes one by one: the same
  // DELs, sooner); failures are collected in the attachments' order.
  const settled = await Promise.allSettled(
    podAttachments(o).map(({ network, ifName }) => cniDel({ ...o, netnsPath, netConf: network, ifName, prevResult: o.prevResults?.[ifName] })),
  );
  for (const r of settled) if (r.status === "rejected" && !isAlreadyGone(r.reason, netnsPath)) failures.push(r.reason as Error);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new Error(`${failures[0]!.message} (and ${failures.length - 1} more: ${failures.slice(1).map((f) => f.message).join("; ")})`, {
      cause: failures[0],
    });
  }
}
