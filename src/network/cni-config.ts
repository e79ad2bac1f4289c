// Loads the pod network configuration from cni.conf_dir the way containerd's CRI does
// through go-cni and libcni: the lexically first file ending in .conf, .conflist or .json
// is the default network (interface eth0); a single-plugin .conf/.json is wrapped into a
// list of one; with max_conf_num > 1 the next files become eth1, eth2, ... When nothing
// usable is found, the result carries the texts containerd's Status shows.
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { compareCniVersions, isValidCniVersion, MAX_CNI_VERSION } from "./cni-version.js";

export type JsonObject = { [key: string]: unknown };

export interface PluginConfig {
  /** The plugin binary's name, looked up in bin_dir. */
  type: string;
  /** Capabilities the plugin declares; only these receive runtimeConfig entries. */
  capabilities: Record<string, boolean>;
  /** The plugin's JSON as written, which name/cniVersion/prevResult are injected into. */
  raw: JsonObject;
}

export interface NetworkConfigList {
  name: string;
  /** "" when the file gave none (libcni then treats it as 0.1.0). */
  cniVersion: string;
  disableCheck: boolean;
  plugins: PluginConfig[];
  /** The list's JSON text (for a wrapped .conf, the generated list), as libcni caches it. */
  bytes: string;
  /** The file it came from ("" for built-in lists such as loopback). */
  source: string;
}

/** Condition reason containerd's Status reports while no network config is loaded. */
export const NETWORK_NOT_READY_REASON = "NetworkPluginNotReady";
/** go-cni's ErrCNINotInitialized text. */
export const CNI_NOT_INITIALIZED = "cni plugin not initialized";
/** Larger files are refused, as go-cni does (2 MiB). */
export const MAX_CONF_FILE_SIZE = 2 * 1024 * 1024;
export const DEFAULT_CNI_CONF_DIR = "/etc/cni/net.d";
export const DEFAULT_CNI_BIN_DIR = "/opt/cni/bin";

const CONF_EXTENSIONS = new Set([".conf", ".conflist", ".json"]);
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The network containerd attaches first as "lo" (go-cni's WithLoNetwork). */
export const LOOPBACK_NETWORK: NetworkConfigList = Object.freeze({
  name: "cni-loopback",
  cniVersion: "0.3.1",
  disableCheck: false,
  plugins: [{ type: "loopback", capabilities: {}, raw: { type: "loopback" } }],
  bytes: JSON.stringify({ cniVersion: "0.3.1", name: "cni-loopback", plugins: [{ type: "loopback" }] }),
  source: "",
}) as NetworkConfigList;

export class CniConfigError extends Error {
  override name = "CniConfigError";
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseJsonObject(text: string, what: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniConfigError(`error parsing ${what}: ${(e as Error).message}`);
  }
  if (!isObject(v)) throw new CniConfigError(`error parsing ${what}: not a JSON object`);
  return v;
}

function readBool(obj: JsonObject, key: string): boolean {
  const v = obj[key];
  if (v === undefined) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && (v.toLowerCase() === "true" || v.toLowerCase() === "false")) return v.toLowerCase() === "true";
  throw new CniConfigError(`error parsing configuration list: invalid value ${JSON.stringify(v)} for ${key}`);
}

function checkVersion(v: string, where: string): void {
  if (v === "") return;
  if (!isValidCniVersion(v)) throw new CniConfigError(`${where}: invalid cniVersion ${JSON.stringify(v)}`);
  if (compareCniVersions(v, MAX_CNI_VERSION) > 0) {
    throw new CniConfigError(`${where}: unsupported cniVersion ${JSON.stringify(v)} (newest supported is ${MAX_CNI_VERSION})`);
  }
}

/** The list's version: cniVersion, or the newest supported entry of cniVersions (CNI 1.1). */
function listVersion(obj: JsonObject): string {
  const declared = obj.cniVersion;
  if (declared !== undefined && typeof declared !== "string") {
    throw new CniConfigError(`error parsing configuration list: invalid cniVersion type ${typeof declared}`);
  }
  let version = declared ?? "";
  const many = obj.cniVersions;
  if (many !== undefined) {
    if (!Array.isArray(many) || many.some((v) => typeof v !== "string" || !isValidCniVersion(v))) {
      throw new CniConfigError("error parsing configuration list: invalid cniVersions");
    }
    const usable = [...(many as string[]), ...(version ? [version] : [])]
      .filter((v) => isValidCniVersion(v) && compareCniVersions(v, MAX_CNI_VERSION) <= 0)
      .sort(compareCniVersions);
    if (usable.length > 0) version = usable[usable.length - 1]!;
  }
  checkVersion(version, "error parsing configuration list");
  return version;
}

function toPluginConfig(raw: unknown, index: number): PluginConfig {
  if (!isObject(raw)) throw new CniConfigError(`failed to parse plugin config ${index}: not a JSON object`);
  const type = raw.type;
  if (typeof type !== "string" || type === "") {
    throw new CniConfigError(`failed to parse plugin config ${index}: error parsing configuration: missing 'type'`);
  }
  if (type.includes("/")) throw new CniConfigError(`failed to parse plugin config ${index}: invalid plugin type ${JSON.stringify(type)}`);
  const capabilities: Record<string, boolean> = {};
  if (isObject(raw.capabilities)) {
    for (const [k, v] of Object.entries(raw.capabilities)) if (v === true) capabilities[k] = true;
  }
  return { type, capabilities, raw };
}

function checkName(name: unknown, what: string): string {
  if (name === undefined) throw new CniConfigError(`error parsing ${what}: no name`);
  if (typeof name !== "string") throw new CniConfigError(`error parsing ${what}: invalid name type ${typeof name}`);
  if (!NAME_RE.test(name)) throw new CniConfigError(`error parsing ${what}: invalid network name ${JSON.stringify(name)}`);
  return name;
}

/** Parses a .conflist document (libcni's ConfListFromBytes plus name validation). */
export function parseNetworkConfigList(text: string, source = ""): NetworkConfigList {
  const obj = parseJsonObject(text, "configuration list");
  const name = checkName(obj.name, "configuration list");
  const cniVersion = listVersion(obj);
  const disableCheck = readBool(obj, "disableCheck");
  const plugins = obj.plugins;
  if (plugins === undefined) throw new CniConfigError("error parsing configuration list: no 'plugins' key");
  if (!Array.isArray(plugins)) throw new CniConfigError("error parsing configuration list: invalid 'plugins' type");
  if (plugins.length === 0) throw new CniConfigError("error parsing configuration list: no plugins in list");
  return { name, cniVersion, disableCheck, plugins: plugins.map(toPluginConfig), bytes: text, source };
}

/** Parses a single-plugin .conf/.json and wraps it into a list (libcni's ConfListFromConf). */
export function parseSinglePluginConfig(text: string, source = ""): NetworkConfigList {
  const obj = parseJsonObject(text, "configuration");
  if (typeof obj.type !== "string" || obj.type === "") {
    // Also what a conflist saved under a .conf name looks like.
    throw new CniConfigError(`network type not found in ${source || "config"}`);
  }
  const name = checkName(obj.name, "configuration");
  const version = obj.cniVersion ?? "";
  if (typeof version !== "string") throw new CniConfigError(`error parsing configuration: invalid cniVersion type ${typeof version}`);
  checkVersion(version, "error parsing configuration");
  const bytes = JSON.stringify({ cniVersion: version, name, plugins: [obj] });
  return { name, cniVersion: version, disableCheck: false, plugins: [toPluginConfig(obj, 0)], bytes, source };
}

export interface CniConfigLoaded {
  /** The default network, attached as eth0. */
  config: NetworkConfigList;
  /** config first, then any further networks (eth1, ...) when maxConfNum allows. */
  networks: NetworkConfigList[];
  /** containerd's verbose Status "lastCNILoadStatus". */
  loadStatus: "OK";
}

export interface CniConfigMissing {
  config: null;
  networks: [];
  /** RuntimeCondition NetworkReady=false reason and message, as containerd reports them. */
  reason: typeof NETWORK_NOT_READY_REASON;
  message: string;
  /** Why loading failed, in go-cni's words (containerd's "lastCNILoadStatus"). */
  loadStatus: string;
}

export type CniConfigLoad = CniConfigLoaded | CniConfigMissing;

export interface LoadCniConfigOptions {
  /** containerd's max_conf_num: how many files become networks; 0 means all (default 1). */
  maxConfNum?: number;
  maxFileSize?: number;
}

function missing(cause: string): CniConfigMissing {
  return {
    config: null,
    networks: [],
    reason: NETWORK_NOT_READY_REASON,
    message: `Network plugin returns error: ${CNI_NOT_INITIALIZED}`,
    loadStatus: `cni config load failed: ${cause}: failed to load cni config`,
  };
}

/** Config files of a directory in load order; a missing directory has none (libcni's ConfFiles). */
export async function listCniConfigFiles(confDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(confDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return entries
    .filter((d) => !d.isDirectory() && CONF_EXTENSIONS.has(extname(d.name)))
    .map((d) => join(confDir, d.name))
    .sort();
}

async function loadFile(file: string, maxFileSize: number): Promise<NetworkConfigList> {
  const size = (await stat(file)).size;
  if (size > maxFileSize) throw new CniConfigError(`CNI config in ${file} exceeded max size of ${maxFileSize}`);
  const text = await readFile(file, "utf8");
  const isList = file.endsWith(".conflist");
  try {
    return isList ? parseNetworkConfigList(text, file) : parseSinglePluginConfig(text, file);
  } catch (e) {
    if (!(e instanceof CniConfigError)) throw e;
    if (!isList && e.message.startsWith("network type not found")) throw new CniConfigError(`${e.message}: invalid cni config`);
    const kind = isList ? "CNI config list file" : "CNI config file";
    throw new CniConfigError(`failed to load ${kind} ${file}: ${e.message}: invalid cni config`);
  }
}

/**
 * Loads the pod networks from confDir. Never throws for a bad or missing config: the
 * caller reports NetworkReady=false and retries later, as containerd's conf syncer does.
 */
export async function loadCniConfig(confDir: string, opts: LoadCniConfigOptions = {}): Promise<CniConfigLoad> {
  const max = opts.maxConfNum ?? 1;
  const maxFileSize = opts.maxFileSize ?? MAX_CONF_FILE_SIZE;
  let files: string[];
  try {
    files = await listCniConfigFiles(confDir);
  } catch (e) {
    return missing(`failed to read config file: ${(e as Error).message}: failed to read config file`);
  }
  if (files.length === 0) return missing(`no network config found in ${confDir}: ${CNI_NOT_INITIALIZED}`);
  const networks: NetworkConfigList[] = [];
  for (const file of files) {
    try {
      networks.push(await loadFile(file, maxFileSize));
    } catch (e) {
      return missing((e as Error).message);
    }
    if (networks.length === max) break;
  }
  return { config: networks[0]!, networks, loadStatus: "OK" };
}

/** Interface name of the i-th network: eth0 for the default one (go-cni's prefix + index). */
export function interfaceNameFor(index: number, prefix = "eth"): string {
  return `${prefix}${index}`;
}
