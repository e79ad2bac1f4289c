// The CNI network the tests use: a bridge with host-local IPAM plus portmap. Loopback is
// not in the list: CRI runtimes invoke it on its own for every pod.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CniInfo } from "./env.js";

export const CNI_BIN_DIR = "/usr/lib/cni";
export const CNI_NETWORK = "crib-test";
export const CNI_BRIDGE = "crib-test0";
// Private range used only by addresses inside the netns the tests make.
export const CNI_SUBNET = "10.88.77.0/24";
export const CNI_GATEWAY = "10.88.77.1";

export function cniConflist(ipamDataDir: string): object {
  return {
    // Debian's plugins 1.1.1 support spec 1.0.0.
    cniVersion: "1.0.0",
    name: CNI_NETWORK,
    plugins: [
      {
        type: "bridge",
        bridge: CNI_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: CNI_SUBNET, gateway: CNI_GATEWAY }]],
          routes: [{ dst: "0.0.0.0/0" }],
          // Leases live in the run's temp dir, not in /var/lib/cni, so nothing outlives it.
          dataDir: ipamDataDir,
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
}

export function writeCniConfig(dir: string): CniInfo {
  const confDir = join(dir, "net.d");
  const ipamDataDir = join(dir, "ipam");
  mkdirSync(confDir, { recursive: true });
  mkdirSync(ipamDataDir, { recursive: true });
  const confFile = join(confDir, `10-${CNI_NETWORK}.conflist`);
  writeFileSync(confFile, JSON.stringify(cniConflist(ipamDataDir), null, 2) + "\n");
  return {
    binDir: CNI_BIN_DIR,
    confDir,
    confFile,
    networkName: CNI_NETWORK,
    bridge: CNI_BRIDGE,
    subnet: CNI_SUBNET,
    gateway: CNI_GATEWAY,
    ipamDataDir,
  };
}
