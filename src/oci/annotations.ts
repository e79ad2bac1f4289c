// The io.kubernetes.cri.* OCI annotations containerd's CRI plugin sets (internal/cri/
// annotations). Runtimes such as Kata and gVisor, NRI plugins and node agents key on them,
// so the keys and values must be containerd's exactly.
import type { PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { pathMatch } from "./go-path.js";

export const CriAnnotation = {
  ContainerType: "io.kubernetes.cri.container-type",
  SandboxID: "io.kubernetes.cri.sandbox-id",
  SandboxCPUPeriod: "io.kubernetes.cri.sandbox-cpu-period",
  SandboxCPUQuota: "io.kubernetes.cri.sandbox-cpu-quota",
  SandboxCPUShares: "io.kubernetes.cri.sandbox-cpu-shares",
  SandboxMem: "io.kubernetes.cri.sandbox-memory",
  SandboxLogDir: "io.kubernetes.cri.sandbox-log-directory",
  UntrustedWorkload: "io.kubernetes.cri.untrusted-workload",
  SandboxNamespace: "io.kubernetes.cri.sandbox-namespace",
  SandboxUID: "io.kubernetes.cri.sandbox-uid",
  SandboxName: "io.kubernetes.cri.sandbox-name",
  ContainerName: "io.kubernetes.cri.container-name",
  ImageName: "io.kubernetes.cri.image-name",
  SandboxImageName: "io.kubernetes.cri.podsandbox.image-name",
  PodAnnotations: "io.kubernetes.cri.pod-annotations",
  RuntimeHandler: "io.containerd.cri.runtime-handler",
} as const;

export const ContainerType = { Sandbox: "sandbox", Container: "container" } as const;

/**
 * annotations.DefaultCRIAnnotations: pod identity on every spec; the log directory and
 * sandbox image name on pause containers; container and image name on app containers.
 */
export function defaultCriAnnotations(
  sandboxId: string,
  containerName: string,
  imageName: string,
  sandboxConfig: Pick<PodSandboxConfig, "metadata" | "logDirectory">,
  isSandbox: boolean,
): Record<string, string> {
  const md = sandboxConfig.metadata;
  const out: Record<string, string> = {
    [CriAnnotation.SandboxID]: sandboxId,
    [CriAnnotation.SandboxNamespace]: md?.namespace ?? "",
    [CriAnnotation.SandboxUID]: md?.uid ?? "",
    [CriAnnotation.SandboxName]: md?.name ?? "",
  };
  if (isSandbox) {
    out[CriAnnotation.SandboxLogDir] = sandboxConfig.logDirectory;
    out[CriAnnotation.SandboxImageName] = imageName;
  } else {
    out[CriAnnotation.ContainerName] = containerName;
    out[CriAnnotation.ImageName] = imageName;
  }
  out[CriAnnotation.ContainerType] = isSandbox ? ContainerType.Sandbox : ContainerType.Container;
  return out;
}

/** The annotations whose keys match one of the runtime handler's glob patterns (path.Match). */
export function passthroughAnnotations(
  annotations: Readonly<Record<string, string>>,
  patterns: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) {
    if (patterns.some((p) => pathMatch(p, k))) out[k] = v;
  }
  return out;
}
