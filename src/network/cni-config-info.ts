// Status's verbose "cniconfig": the CNI configuration crib would use now, in the shape
// containerd's CRI prints (go-cni's ConfigResult), so tools that read it from either
// runtime find the same keys. The loopback network comes first, as go-cni sets it up.
import { LOOPBACK_NETWORK, interfaceNameFor, type CniConfigLoad, type NetworkConfigList } from "./cni-config.js";

export interface CniConfigInfo {
  PluginDirs: string[];
  PluginConfDir: string;
  PluginMaxConfNum: number;
  Prefix: string;
  Networks: { Config: { Name: string; CNIVersion: string; Plugins: { Network: unknown; Source: string }[]; Source: string }; IFName: string }[];
}

function confList(n: NetworkConfigList) {
  return {
    Name: n.name,
    CNIVersion: n.cniVersion,
    Plugins: n.plugins.map((p) => ({ Network: p.raw, Source: JSON.stringify(p.raw) })),
    Source: n.bytes,
  };
}

export function cniConfigInfo(binDirs: string[], confDir: string, maxConfNum: number, loaded: CniConfigLoad): CniConfigInfo {
  return {
    PluginDirs: binDirs,
    PluginConfDir: confDir,
    PluginMaxConfNum: maxConfNum,
    Prefix: "eth",
    Networks: [
      { Config: confList(LOOPBACK_NETWORK), IFName: "lo" },
      ...loaded.networks.map((n, i) => ({ Config: confList(n), IFName: interfaceNameFor(i) })),
    ],
  };
}
