// What containerd's CRI hands to CNI for a pod (cniNamespaceOpts): the CNI_ARGS labels
// naming the pod, and capability arguments from its sandbox config (port mappings,
// bandwidth annotations, DNS, cgroup parent, annotations).
// It lives in pod/ because it reads the CRI PodSandboxConfig; src/network knows CNI, not the CRI.
import { Protocol, type PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { podBandwidth } from "../network/bandwidth.js";
import type { CapabilityArgs, CniPortMapping } from "../network/cni-plugin-input.js";

/** The capability through which containerd passes all pod annotations. */
export const POD_ANNOTATIONS_CAPABILITY = "io.kubernetes.cri.pod-annotations";

export type PodNetworkConfig = Pick<PodSandboxConfig, "metadata" | "dnsConfig" | "portMappings" | "annotations" | "linux">;

/**
 * CNI_ARGS for a pod: IgnoreUnknown=1 lets plugins that know none of the K8S_* keys
 * accept them.
 */
export function podCniArgs(sandboxId: string, config: Pick<PodSandboxConfig, "metadata">): [string, string][] {
  const md = config.metadata;
  return [
    ["IgnoreUnknown", "1"],
    ["K8S_POD_NAMESPACE", md?.namespace ?? ""],
    ["K8S_POD_NAME", md?.name ?? ""],
    ["K8S_POD_INFRA_CONTAINER_ID", sandboxId],
    ["K8S_POD_UID", md?.uid ?? ""],
  ];
}

function protocolName(p: Protocol): string {
  switch (p) {
    case Protocol.UDP:
      return "udp";
    case Protocol.SCTP:
      return "sctp";
    default:
      return "tcp";
  }
}

/** CRI port mappings the portmap plugin can act on: those with a host port. */
export function toCniPortMappings(mappings: PodSandboxConfig["portMappings"]): CniPortMapping[] {
  return mappings
    .filter((m) => m.hostPort > 0)
    .map((m) => {
      const pm: CniPortMapping = { hostPort: m.hostPort, containerPort: m.containerPort, protocol: protocolName(m.protocol) };
      if (m.hostIp) pm.hostIP = m.hostIp;
      return pm;
    });
}

/**
 * The capability arguments for a pod. Throws on malformed bandwidth annotations, which
 * fails RunPodSandbox as in containerd.
 */
export function podCapabilityArgs(config: PodNetworkConfig): CapabilityArgs {
  const args: CapabilityArgs = { [POD_ANNOTATIONS_CAPABILITY]: { ...config.annotations } };
  const portMappings = toCniPortMappings(config.portMappings);
  if (portMappings.length > 0) args.portMappings = portMappings;
  const bandwidth = podBandwidth(config.annotations);
  if (bandwidth) args.bandwidth = bandwidth;
  const dns = config.dnsConfig;
  if (dns) args.dns = { servers: [...dns.servers], searches: [...dns.searches], options: [...dns.options] };
  const cgroup = config.linux?.cgroupParent;
  if (cgroup) args.cgroupPath = cgroup;
  return args;
}
