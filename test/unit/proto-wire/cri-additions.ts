// runtime.v1 items crib's proto/cri/runtime/v1/api.proto has beyond the Debian
// cri-api package it was copied from (0.32.3), written in by hand from upstream
// kubernetes staging/src/k8s.io/cri-api. The wire test allows exactly these
// extras; each must also carry a "crib: added in cri-api vX.Y" comment in the
// .proto. When Debian ships a newer cri-api that contains an item, the test
// fails until the item is removed from this list.
//
// An entry naming a message or enum also covers its fields or values.

export interface CriAddition {
  /** Wire-shape key of the item, see wire-shape.ts. */
  item: string;
  /** cri-api release (= Kubernetes minor) that added it. */
  since: "v0.33" | "v0.34" | "v0.35" | "v0.36" | "v0.37";
  why: string;
}

const PSI = "KEP-4205 PSI metrics";
const STOP = "KEP-4960 container stop signals";
const RESIZE = "KEP-1287 in-place pod resize";
const LIST_STREAMING = "KEP-5825 CRIListStreaming";

const streamingPair = (rpcOwner: string, name: string): CriAddition[] => [
  { item: `rpc runtime.v1.${rpcOwner}.Stream${name}`, since: "v0.36", why: LIST_STREAMING },
  { item: `message runtime.v1.Stream${name}Request`, since: "v0.36", why: LIST_STREAMING },
  { item: `message runtime.v1.Stream${name}Response`, since: "v0.36", why: LIST_STREAMING },
];

export const CRI_ADDITIONS: readonly CriAddition[] = [
  { item: "rpc runtime.v1.RuntimeService.UpdatePodSandboxResources", since: "v0.33", why: RESIZE },
  { item: "message runtime.v1.UpdatePodSandboxResourcesRequest", since: "v0.33", why: RESIZE },
  { item: "message runtime.v1.UpdatePodSandboxResourcesResponse", since: "v0.33", why: RESIZE },
  { item: "enum runtime.v1.Signal", since: "v0.33", why: STOP },
  { item: "field runtime.v1.ContainerConfig.stop_signal", since: "v0.33", why: STOP },
  { item: "field runtime.v1.ContainerStatus.stop_signal", since: "v0.33", why: STOP },
  { item: "message runtime.v1.PsiStats", since: "v0.33", why: PSI },
  { item: "message runtime.v1.PsiData", since: "v0.33", why: PSI },
  { item: "message runtime.v1.IoUsage", since: "v0.33", why: PSI },
  { item: "field runtime.v1.CpuUsage.psi", since: "v0.33", why: PSI },
  { item: "field runtime.v1.MemoryUsage.psi", since: "v0.33", why: PSI },
  { item: "field runtime.v1.ContainerStats.io", since: "v0.33", why: PSI },
  { item: "field runtime.v1.LinuxPodSandboxStats.io", since: "v0.33", why: PSI },
  { item: "field runtime.v1.Mount.image_sub_path", since: "v0.33", why: "KEP-4639 image volume subPath (beta)" },
  ...streamingPair("RuntimeService", "PodSandboxes"),
  ...streamingPair("RuntimeService", "Containers"),
  ...streamingPair("RuntimeService", "ContainerStats"),
  ...streamingPair("RuntimeService", "PodSandboxStats"),
  ...streamingPair("RuntimeService", "PodSandboxMetrics"),
  ...streamingPair("ImageService", "Images"),
  { item: "field runtime.v1.ImageSpec.image_ref", since: "v0.36", why: "KEP-5365 ImageVolumeWithDigest" },
  {
    item: "field runtime.v1.RuntimeFeatures.user_namespaces_host_network",
    since: "v0.36",
    why: "KEP-5607 UserNamespacesHostNetworkSupport",
  },
  { item: "field runtime.v1.ExecRequest.audit_request_id", since: "v0.37", why: "KEP-6035 exec session identity" },
  { item: "field runtime.v1.AttachRequest.audit_request_id", since: "v0.37", why: "KEP-6035 exec session identity" },
];
