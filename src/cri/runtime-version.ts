// Version: answered like containerd's CRI (runtime name "containerd", its version), so
// kubelet's node info and tools keyed on "containerd" keep working; crib's own version rides
// along as semver build metadata ("2.1.9+unknown.crib-0.1.0"), and in Status's verbose info.
import type { CriDeps, RuntimeHandlers } from "./deps.js";

/** The kubelet runtime API version containerd's CRI reports. */
export const KUBELET_API_VERSION = "0.1.0";
export const CRI_API_VERSION = "v1";
export const CRIB_VERSION = "0.1.0";

export function withCribVersion(containerdVersion: string): string {
  return `${containerdVersion}${containerdVersion.includes("+") ? "." : "+"}crib-${CRIB_VERSION}`;
}

export function version(deps: CriDeps): RuntimeHandlers["version"] {
  return async () => {
    const v = await deps.containerd.version.version({});
    return {
      version: KUBELET_API_VERSION,
      runtimeName: "containerd",
      runtimeVersion: withCribVersion(v.version),
      runtimeApiVersion: CRI_API_VERSION,
    };
  };
}
