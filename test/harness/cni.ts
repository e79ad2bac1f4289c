// The CNI network the tests use: a bridge with host-local IPAM plus portmap. Loopback is
// not in the list: CRI runtimes invoke it on its own for every pod.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { CniInfo } from "./env.js";

export const CNI_BIN_DIR = "/usr/lib/cni";
export const CNI_NETWORK = "crib-test";

export interface CniNetwork {
  bridge: string;
  subnet: string;
  gateway: string;
}

/**
 * Bridge and subnet of one harness run, derived from its temp dir so that runs side by
 * side (two sessions, a helper and CI) never share or delete each other's bridge, and a
 * dead run's bridge can be found again from its dir name. Private range 10.88.100-249.x,
 * used only by addresses inside the netns the tests make.
 */
export function cniNetworkFor(runDir: string): CniNetwork {
  const name = basename(runDir);
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const octet = 100 + (h % 150);
  return { bridge: `cribt${octet}`, subnet: `10.88.${octet}.0/24`, gateway: `10.88.${octet}.1` };
}

export function cniConflist(ipamDataDir: string, net: CniNetwork): object {
  return {
    // Debian's plugins 1.1.1 support spec 1.0.0.
    cniVersion: "1.0.0",
    name: CNI_NETWORK,
    plugins: [
      {
        type: "bridge",
        bridge: net.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: net.subnet, gateway: net.gateway }]],
          routes: [{ dst: "0.0.0.0/0" }],
          // Leases live in the run's temp dir, not in /var/lib/cni, so nothing outlives it.
          dataDir: ipamDataDir,
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
}

export function writeCniConfig(dir: string, net: CniNetwork): CniInfo {
  const confDir = join(dir, "net.d");
  const ipamDataDir = join(dir, "ipam");
  mkdirSync(confDir, { recursive: true });
  mkdirSync(ipamDataDir, { recursive: true });
  const confFile = join(confDir, `10-${CNI_NETWORK}.conflist`);
  writeFileSync(confFile, JSON.stringify(cniConflist(ipamDataDir, net), null, 2) + "\n");
  return {
    binDir: CNI_BIN_DIR,
    confDir,
    confFile,
    networkName: CNI_NETWORK,
    bridge: net.bridge,
    subnet: net.subnet,
    gateway: net.gateway,
    ipamDataDir,
  };
}
