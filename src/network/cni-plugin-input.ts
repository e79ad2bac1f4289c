// What a CNI plugin receives, built as libcni builds it: the environment (CNI_COMMAND,
// CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH) and the stdin config, the
// plugin's own JSON with the list's name and cniVersion, the previous result and a
// runtimeConfig holding only the capability arguments the plugin declares.
import type { CniBandwidth } from "./bandwidth.js";
import type { JsonObject, NetworkConfigList, PluginConfig } from "./cni-config.js";

export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION" | "STATUS" | "GC";

/** Ordered CNI_ARGS pairs; a record keeps its insertion order. */
export type CniArgs = Record<string, string> | ReadonlyArray<readonly [string, string]>;

/** "portMappings" capability entry (CNI conventions names, as the portmap plugin reads them). */
export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

/** "dns" capability (CNI conventions). */
export interface CniDnsCapability {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

/** Capability arguments a runtime offers; a plugin gets those it declares in "capabilities". */
export interface CapabilityArgs {
  portMappings?: CniPortMapping[];
  bandwidth?: CniBandwidth;
  dns?: CniDnsCapability;
  cgroupPath?: string;
  "io.kubernetes.cri.pod-annotations"?: Record<string, string>;
  [capability: string]: unknown;
}

export function cniArgPairs(args: CniArgs | undefined): [string, string][] {
  if (!args) return [];
  const pairs = Array.isArray(args) ? args : Object.entries(args);
  return pairs.map(([k, v]) => [k, v] as [string, string]);
}

/** CNI_ARGS: "K1=V1;K2=V2" in the given order. */
export function formatCniArgs(args: CniArgs | undefined): string {
  return cniArgPairs(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(";");
}

export interface PluginEnvInput {
  command: CniCommand;
  containerId: string;
  /** "" on DEL when the namespace is already gone (the spec allows it). */
  netns: string;
  ifName: string;
  args?: CniArgs;
  binDirs: readonly string[];
}

/**
 * The plugin's environment: this process's environment with the CNI variables set on top,
 * so stray CNI_* values inherited from the caller can never leak into an invocation.
 */
export function buildPluginEnv(input: PluginEnvInput, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    CNI_COMMAND: input.command,
    CNI_CONTAINERID: input.containerId,
    CNI_NETNS: input.netns,
    CNI_IFNAME: input.ifName,
    CNI_ARGS: formatCniArgs(input.args),
    CNI_PATH: input.binDirs.join(":"),
  };
}

/** The runtimeConfig for one plugin: only capabilities it declares and the runtime offers. */
export function runtimeConfigFor(plugin: PluginConfig, capabilityArgs: CapabilityArgs | undefined): JsonObject | undefined {
  if (!capabilityArgs) return undefined;
  const rc: JsonObject = {};
  for (const cap of Object.keys(plugin.capabilities)) {
    const value = capabilityArgs[cap];
    if (plugin.capabilities[cap] && value !== undefined) rc[cap] = value;
  }
  return Object.keys(rc).length > 0 ? rc : undefined;
}

/**
 * The JSON a plugin reads on stdin (libcni's buildOneConfig): its own config with name and
 * cniVersion forced to the list's, prevResult when there is one, and runtimeConfig. As in
 * libcni, an injected runtimeConfig replaces one written in the file.
 */
export function buildPluginStdin(
  list: Pick<NetworkConfigList, "name" | "cniVersion">,
  plugin: PluginConfig,
  prevResult: unknown,
  capabilityArgs?: CapabilityArgs,
): string {
  const conf: JsonObject = { ...plugin.raw, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined && prevResult !== null) conf.prevResult = prevResult;
  const rc = runtimeConfigFor(plugin, capabilityArgs);
  if (rc) conf.runtimeConfig = rc;
  return JSON.stringify(conf);
}

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** libcni's checks on what goes into the environment; returns the problem or undefined. */
export function validateAttachment(containerId: string, networkName: string, ifName: string): string | undefined {
  if (!containerId) return "missing containerID";
  if (!ID_RE.test(containerId)) return `invalid characters in containerID ${JSON.stringify(containerId)}`;
  if (!ID_RE.test(networkName)) return `invalid characters in network name ${JSON.stringify(networkName)}`;
  if (!ifName) return "interface name is empty";
  if (ifName.length > 15) return `interface name is too long: ${JSON.stringify(ifName)}`;
  if (ifName === "." || ifName === "..") return `interface name is . or ..`;
  if (/[/:\s]/.test(ifName)) return `interface name contains / or : or whitespace characters: ${JSON.stringify(ifName)}`;
  return undefined;
}
