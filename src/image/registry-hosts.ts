// The registry endpoints of one host, read from a containerd certs.d dir
// (registry.config_path) the way containerd's remotes/docker/config does it: the mirrors of
// <dir>/<host>/hosts.toml (or <dir>/_default/hosts.toml) in file order, then `server`
// (default: the host itself). Used by the client-side pull (containerd without a
// Transfer service that honours host_dir); the Transfer path hands the dir to containerd.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "smol-toml";

export interface RegistryEndpoint {
  /** Base URL the /v2 API lives under, e.g. "http://127.0.0.1:5000/v2". */
  base: string;
  /** pull, resolve, push: a mirror without "resolve" is used for blobs only. */
  capabilities: string[];
  skipVerify: boolean;
  headers: Record<string, string>;
}

const DEFAULT_CAPABILITIES = ["pull", "resolve", "push"];

/** The host Docker Hub's API answers on. */
export function defaultServer(host: string): string {
  if (host === "docker.io") return "https://registry-1.docker.io";
  return `${isLocalhost(host) ? "http" : "https"}://${host}`;
}

/** containerd's docker.IsLocalhost: plain HTTP is allowed there without configuration. */
export function isLocalhost(host: string): boolean {
  const h = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}

function apiBase(url: string, overridePath: boolean): string {
  const u = url.replace(/\/+$/, "");
  if (overridePath || /\/v2$/.test(u)) return u;
  return `${u}/v2`;
}

function strings(v: unknown): string[] | undefined {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  return undefined;
}

function headersOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== "object" || v === null) return out;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const s = strings(val);
    if (s && s.length > 0) out[k] = s.join(", ");
  }
  return out;
}

function endpointOf(url: string, section: Record<string, unknown>): RegistryEndpoint {
  return {
    base: apiBase(url, section["override_path"] === true),
    capabilities: strings(section["capabilities"]) ?? DEFAULT_CAPABILITIES,
    skipVerify: section["skip_verify"] === true,
    headers: headersOf(section["header"]),
  };
}

/** Pure: the endpoints a hosts.toml (text, or undefined when there is none) gives a host. */
export function parseHostsToml(host: string, text: string | undefined): RegistryEndpoint[] {
  if (text === undefined) return [endpointOf(defaultServer(host), {})];
  const doc = parse(text) as Record<string, unknown>;
  const mirrors: RegistryEndpoint[] = [];
  const hosts = doc["host"];
  if (typeof hosts === "object" && hosts !== null) {
    for (const [url, section] of Object.entries(hosts as Record<string, unknown>)) {
      mirrors.push(endpointOf(url, (section ?? {}) as Record<string, unknown>));
    }
  }
  const server = typeof doc["server"] === "string" ? (doc["server"] as string) : defaultServer(host);
  const serverBase = apiBase(server, doc["override_path"] === true);
  // A [host."<server>"] section configures the server itself rather than adding a mirror.
  const own = mirrors.findIndex((m) => m.base === serverBase);
  if (own >= 0) return [...mirrors.slice(0, own), ...mirrors.slice(own + 1), mirrors[own]!];
  return [...mirrors, { ...endpointOf(server, doc), base: serverBase }];
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Reads <dir>/<host>/hosts.toml, else <dir>/_default/hosts.toml, else the defaults. */
export async function registryEndpoints(configPath: string, host: string): Promise<RegistryEndpoint[]> {
  if (!configPath) return parseHostsToml(host, undefined);
  for (const dir of [host, "_default"]) {
    const text = await readIfExists(join(configPath, dir, "hosts.toml"));
    if (text !== undefined) return parseHostsToml(host, text);
  }
  return parseHostsToml(host, undefined);
}
