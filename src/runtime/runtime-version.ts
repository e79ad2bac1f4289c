// Version: answered like containerd's CRI (runtime name "containerd", its version), so
// kubelet's node info and tools keyed on "containerd" keep working; crib's own version rides
// along as semver build metadata ("2.1.9+unknown.crib-0.1.0"), and in Status's verbose info.
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import { replyCache } from "../rpc/proto-service.js";
import { VersionResponseSchema } from "../gen/runtime/v1/api_pb.js";

/** The kubelet runtime API version containerd's CRI reports. */
export const KUBELET_API_VERSION = "0.1.0";
export const CRI_API_VERSION = "v1";
export const CRIB_VERSION = "0.1.0";

export function withCribVersion(containerdVersion: string): string {
  return `${containerdVersion}${containerdVersion.includes("+") ? "." : "+"}crib-${CRIB_VERSION}`;
}

/**
 * containerd's version, asked again only after the connection was lost (containerd may
 * have been upgraded) or while it is down (the call then fails UNAVAILABLE, as it should):
 * containerd's CRI answers Version from memory too.
 */
function cachedVersion(deps: CriDeps): () => Promise<string> {
  let known: { version: string; lostConnections: number } | undefined;
  return async () => {
    const cd = deps.containerd;
    if (known && known.lostConnections === cd.lostConnections && cd.connected()) return known.version;
    const lostConnections = cd.lostConnections;
    const v = await cd.version.version({});
    known = { version: v.version, lostConnections };
    return v.version;
  };
}

export function version(deps: CriDeps): RuntimeHandlers["version"] {
  const containerdVersion = cachedVersion(deps);
  const reply = replyCache(VersionResponseSchema);
  return async () => {
    const v = await containerdVersion();
    return reply(v, () => ({
      version: KUBELET_API_VERSION,
      runtimeName: "containerd",
      runtimeVersion: withCribVersion(v),
      runtimeApiVersion: CRI_API_VERSION,
    }));
  };
}
