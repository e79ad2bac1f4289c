// crib's own pod network for hosts with no CNI config (`--default-cni`, config
// default_cni): a bridge (crib0) with host-local IPAM on a /24 that no existing route
// covers, NAT to the outside and portmap for hostPorts. It is written under state_dir,
// never into conf_dir: an operator's conf_dir always wins, and crib falls back to its own
// network only while conf_dir holds no config at start-up. The loopback plugin is not in
// the list: crib attaches lo to every pod on its own (LOOPBACK_NETWORK), as containerd does.
// containerd has no such fallback (its Status says "cni plugin not initialized" until a
// config appears); crib has one so that `make run` can run a first pod with no other step.
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { listCniConfigFiles } from "./cni-config.js";

export const DEFAULT_NETWORK_NAME = "crib-default";
export const DEFAULT_BRIDGE = "crib0";
export const DEFAULT_NETWORK_FILE = `10-${DEFAULT_NETWORK_NAME}.conflist`;
/** Plugin binaries the default network needs in bin_dir. */
export const DEFAULT_NETWORK_PLUGINS = ["bridge", "host-local", "portmap", "loopback"];

export interface Route {
  iface: string;
  /** network address and mask as unsigned 32-bit numbers */
  dst: number;
  mask: number;
}

const hexLE = (h: string): number => {
  const v = parseInt(h, 16);
  // /proc/net/route prints addresses in host (little-endian) byte order.
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0;
};

/** The IPv4 routes of /proc/net/route (header line skipped). */
export function parseProcNetRoute(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^[0-9A-Fa-f]{8}$/.test(f[1]!) || !/^[0-9A-Fa-f]{8}$/.test(f[7]!)) continue;
    routes.push({ iface: f[0]!, dst: hexLE(f[1]!), mask: hexLE(f[7]!) });
  }
  return routes;
}

export const ipv4 = (n: number): string => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");

/**
 * Candidate /24s in order: 10.88.0.0/24 (containerd's example network is 10.88.0.0/16),
 * then up through 10.88-10.99.x.0/24.
 */
export function* candidateSubnets(): Generator<number> {
  for (let second = 88; second <= 99; second++) {
    for (let third = 0; third <= 255; third++) yield ((10 << 24) | (second << 16) | (third << 8)) >>> 0;
  }
}

/**
 * The first candidate /24 that overlaps no route (default routes aside: they cover
 * everything and are not a collision). Routes on crib's own bridge are left out, so a
 * restart picks the subnet its running pods already use. Returns "a.b.c.0/24".
 */
export function pickSubnet(routes: readonly Route[], ownBridge = DEFAULT_BRIDGE): string {
  const mask24 = 0xffffff00;
  const taken = routes.filter((r) => r.mask !== 0 && r.iface !== ownBridge);
  for (const net of candidateSubnets()) {
    const overlaps = taken.some((r) => {
      // Two prefixes overlap when they agree on the shorter one's bits.
      const m = (r.mask & mask24) >>> 0;
      return ((net & m) >>> 0) === ((r.dst & m) >>> 0);
    });
    if (!overlaps) return `${ipv4(net)}/24`;
  }
  throw new Error("no free /24 in 10.88.0.0-10.99.255.0 for crib's default network: write a CNI config into conf_dir");
}

/** The conflist (pure). subnet: "a.b.c.0/24"; gateway .1. */
export function defaultConflist(subnet: string, ipamDataDir: string): object {
  const base = subnet.split("/")[0]!.split(".").slice(0, 3).join(".");
  return {
    cniVersion: "1.0.0",
    name: DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: "bridge",
        bridge: DEFAULT_BRIDGE,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet, gateway: `${base}.1` }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: ipamDataDir,
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
}

export function defaultNetworkDirs(stateDir: string): { confDir: string; ipamDataDir: string } {
  return { confDir: join(stateDir, "cni", "net.d"), ipamDataDir: join(stateDir, "cni", "ipam") };
}

async function missingPlugins(binDirs: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const p of DEFAULT_NETWORK_PLUGINS) {
    const found = await Promise.all(binDirs.map((d) => access(join(d, p)).then(() => true, () => false)));
    if (!found.includes(true)) missing.push(p);
  }
  return missing;
}

/**
 * With default_cni on and conf_dir empty, returns the config pointed at crib's own
 * network (written once; kept as is while it exists so pods keep their subnet).
 * Otherwise returns the config unchanged.
 */
export async function useDefaultNetwork(config: Config, logger: Logger, routeFile = "/proc/net/route"): Promise<Config> {
  if (!config.defaultCni) return config;
  if ((await listCniConfigFiles(config.cniConfDir)).length > 0) {
    logger.info("default_cni: conf_dir holds a CNI config, crib's default network is not used", { confDir: config.cniConfDir });
    return config;
  }
  if (config.cniConfTemplate !== "") {
    // UpdateRuntimeConfig renders the template into conf_dir: the operator's network to come.
    logger.info("default_cni: conf_template is set, crib's default network is not used", { confTemplate: config.cniConfTemplate });
    return config;
  }
  const { confDir, ipamDataDir } = defaultNetworkDirs(config.stateDir);
  const file = join(confDir, DEFAULT_NETWORK_FILE);
  let text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) {
    const subnet = pickSubnet(parseProcNetRoute(await readFile(routeFile, "utf8")));
    text = JSON.stringify(defaultConflist(subnet, ipamDataDir), null, 2) + "\n";
    await mkdir(confDir, { recursive: true, mode: 0o755 });
    await mkdir(ipamDataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, text, { mode: 0o644 });
  }
  const subnet = (JSON.parse(text) as { plugins: Array<{ ipam?: { ranges?: Array<Array<{ subnet: string }>> } }> }).plugins[0]?.ipam?.ranges?.[0]?.[0]?.subnet;
  logger.info("no CNI config in conf_dir: using crib's default network", { confDir: config.cniConfDir, file, bridge: DEFAULT_BRIDGE, subnet });
  const missing = await missingPlugins(config.cniBinDir.split(":").filter(Boolean));
  if (missing.length > 0) logger.warn("CNI plugins missing for crib's default network", { binDir: config.cniBinDir, missing });
  return { ...config, cniConfDir: confDir };
}
