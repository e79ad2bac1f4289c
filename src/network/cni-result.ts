// CNI results: parsing a plugin's stdout into the 1.0 shape (older 0.x formats are
// converted), merging the results of a pod's networks the way go-cni does, and picking
// the pod IPs on eth0 the way containerd's selectPodIPs does.
import { isIP } from "node:net";
import { compareCniVersions, isValidCniVersion, MAX_CNI_VERSION } from "./cni-version.js";

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** Namespace path for interfaces inside the sandbox; absent for host-side ones. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIpConfig {
  /** CIDR notation: "10.88.0.5/16". */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A plugin result in CNI 1.0 form, whatever version the plugin spoke. */
export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
}

export class CniResultError extends Error {
  override name = "CniResultError";
}

type Obj = { [key: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const strList = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined;

/** Drops undefined members so results compare and serialise cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** "10.1.2.3/24" → "10.1.2.3"; throws when not an address with a valid prefix length. */
export function ipOfCidr(cidr: string): string {
  const slash = cidr.lastIndexOf("/");
  const ip = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = isIP(ip);
  const prefix = slash < 0 ? NaN : Number(cidr.slice(slash + 1));
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new CniResultError(`invalid IP address ${JSON.stringify(cidr)}`);
  }
  return ip;
}

function parseDns(v: unknown): CniDns {
  if (!isObj(v)) return {};
  return compact({
    nameservers: strList(v.nameservers),
    domain: str(v.domain),
    search: strList(v.search),
    options: strList(v.options),
  });
}

function parseRoute(v: unknown): CniRoute {
  if (!isObj(v) || !str(v.dst)) throw new CniResultError("invalid route: missing dst");
  ipOfCidr(v.dst as string);
  return compact({
    dst: v.dst as string,
    gw: str(v.gw),
    mtu: num(v.mtu),
    advmss: num(v.advmss),
    priority: num(v.priority),
    table: num(v.table),
    scope: num(v.scope),
  });
}

function parseIp(v: unknown, interfaceCount: number): CniIpConfig {
  if (!isObj(v) || !str(v.address)) throw new CniResultError("invalid IP configuration: missing address");
  ipOfCidr(v.address as string);
  const index = v.interface;
  if (index !== undefined && index !== null) {
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= interfaceCount) {
      throw new CniResultError(`invalid IP configuration (interface number ${String(index)} is out of bounds)`);
    }
  }
  return compact({ address: v.address as string, gateway: str(v.gateway), interface: typeof index === "number" ? index : undefined });
}

function parseInterface(v: unknown): CniInterface {
  if (!isObj(v) || !str(v.name)) throw new CniResultError("invalid interface: missing name");
  return compact({
    name: v.name as string,
    mac: str(v.mac),
    mtu: num(v.mtu),
    sandbox: str(v.sandbox),
    socketPath: str(v.socketPath),
    pciID: str(v.pciID),
  });
}

/** 0.1.0/0.2.0 results carry ip4/ip6 objects with their own routes and no interfaces. */
function fromLegacy(o: Obj, version: string): CniResult {
  const ips: CniIpConfig[] = [];
  const routes: CniRoute[] = [];
  for (const key of ["ip4", "ip6"]) {
    const fam = o[key];
    if (!isObj(fam)) continue;
    if (!str(fam.ip)) throw new CniResultError(`invalid ${key}: missing ip`);
    ipOfCidr(fam.ip as string);
    ips.push(compact({ address: fam.ip as string, gateway: str(fam.gateway) }));
    if (Array.isArray(fam.routes)) routes.push(...fam.routes.map(parseRoute));
  }
  return { cniVersion: version, interfaces: [], ips, routes, dns: parseDns(o.dns) };
}

/** Parses a plugin's ADD output (text or already-parsed JSON) into the 1.0 shape. */
export function parseCniResult(input: unknown): CniResult {
  let o: unknown = input;
  if (typeof input === "string") {
    try {
      o = JSON.parse(input);
    } catch (e) {
      throw new CniResultError(`failed to decode result: ${(e as Error).message}`);
    }
  }
  if (!isObj(o)) throw new CniResultError("failed to decode result: not a JSON object");
  const version = o.cniVersion === undefined ? "" : o.cniVersion;
  if (typeof version !== "string" || (version !== "" && !isValidCniVersion(version))) {
    throw new CniResultError(`invalid result cniVersion ${JSON.stringify(version)}`);
  }
  if (compareCniVersions(version, MAX_CNI_VERSION) > 0) {
    throw new CniResultError(`unsupported result cniVersion ${JSON.stringify(version)}`);
  }
  if (compareCniVersions(version, "0.3.0") < 0) return fromLegacy(o, version);
  const interfaces = Array.isArray(o.interfaces) ? o.interfaces.map(parseInterface) : [];
  return {
    cniVersion: version,
    interfaces,
    ips: Array.isArray(o.ips) ? o.ips.map((ip) => parseIp(ip, interfaces.length)) : [],
    routes: Array.isArray(o.routes) ? o.routes.map(parseRoute) : [],
    dns: parseDns(o.dns),
  };
}

export interface PodIpConfig {
  ip: string;
  gateway?: string;
}

export interface PodInterface {
  ipConfigs: PodIpConfig[];
  mac?: string;
  sandbox?: string;
}

/** All networks of a pod merged per interface name (go-cni's cni.Result). */
export interface PodNetworkResult {
  interfaces: Record<string, PodInterface>;
  dns: CniDns[];
  routes: CniRoute[];
}

/**
 * Merges per-network results: interfaces by name, each IP attached to the interface its
 * index names or, when it names none, to the default interface (which always exists).
 */
export function mergeCniResults(results: readonly CniResult[], defaultIfName = "eth0"): PodNetworkResult {
  const interfaces: Record<string, PodInterface> = { [defaultIfName]: { ipConfigs: [] } };
  const dns: CniDns[] = [];
  const routes: CniRoute[] = [];
  for (const r of results) {
    for (const intf of r.interfaces) interfaces[intf.name] = compact({ ipConfigs: [], mac: intf.mac, sandbox: intf.sandbox });
    for (const ip of r.ips) {
      const name = ip.interface !== undefined ? r.interfaces[ip.interface]!.name : defaultIfName;
      interfaces[name]!.ipConfigs.push(compact({ ip: ipOfCidr(ip.address), gateway: ip.gateway }));
    }
    dns.push(r.dns);
    routes.push(...r.routes);
  }
  return { interfaces, dns, routes };
}

export type IpPreference = "" | "ipv4" | "ipv6" | "cni";

function isV4(ip: string): boolean {
  return isIP(ip) === 4 || /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip);
}

/**
 * containerd's selectPodIPs: the first address of the preferred family is the pod IP,
 * every other one (earlier ones first, in order) is additional; "cni" keeps the plugin's
 * order. An unknown preference falls back to ipv4.
 */
export function selectPodIPs(ips: readonly string[], preference: IpPreference | string = "ipv4"): { ip: string; additionalIps: string[] } {
  if (ips.length === 0) throw new CniResultError("no IP addresses to select from");
  if (ips.length === 1) return { ip: ips[0]!, additionalIps: [] };
  if (preference !== "cni") {
    const wantV4 = preference !== "ipv6";
    const i = ips.findIndex((ip) => isV4(ip) === wantV4);
    if (i >= 0) return { ip: ips[i]!, additionalIps: [...ips.slice(0, i), ...ips.slice(i + 1)] };
  }
  return { ip: ips[0]!, additionalIps: ips.slice(1) };
}

/** The pod IPs on the default interface; throws like containerd when it got none. */
export function podIPs(result: PodNetworkResult, preference: IpPreference | string = "ipv4", ifName = "eth0") {
  const configs = result.interfaces[ifName]?.ipConfigs ?? [];
  if (configs.length === 0) throw new CniResultError(`failed to find network info: no IP address on ${ifName}`);
  return selectPodIPs(
    configs.map((c) => c.ip),
    preference,
  );
}

/**
 * The merged result in the JSON shape containerd's CRI stores and shows as "cniResult" in
 * PodSandboxStatus verbose info (go-cni's Result marshalled by encoding/json).
 */
export function toContainerdCniResult(result: PodNetworkResult): unknown {
  const interfaces: Record<string, unknown> = {};
  for (const [name, intf] of Object.entries(result.interfaces)) {
    interfaces[name] = {
      IPConfigs: intf.ipConfigs.length ? intf.ipConfigs.map((c) => ({ IP: c.ip, Gateway: c.gateway ?? "" })) : null,
      Mac: intf.mac ?? "",
      Sandbox: intf.sandbox ?? "",
    };
  }
  return { Interfaces: interfaces, DNS: result.dns, Routes: result.routes.length ? result.routes : null };
}
