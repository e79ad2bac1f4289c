// Status: RuntimeReady while the connection to containerd is up (else containerd is asked);
// NetworkReady while a CNI network config is loadable (reason/message as containerd's CRI
// words them); the runtime handlers with their features, and the runtime-wide features.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { messageOf } from "../errors.js";
import { RuntimeConditionSchema, StatusResponseSchema } from "../gen/runtime/v1/api_pb.js";
import { replyCache } from "../rpc/proto-service.js";
import type { loadCniConfig } from "../network/cni-config.js";
import { cachedCniConfig } from "../network/cni-config-cache.js";
import { cniConfigInfo } from "../network/cni-config-info.js";
import type { Config } from "../config.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import { CRIB_VERSION } from "./runtime-version.js";
import { NO_HANDLER_FEATURES, type HandlerFeatureMap } from "../common/handler-features.js";

export async function networkReadiness(
  confDir: string,
): Promise<{ ready: boolean; reason: string; message: string; loadStatus: string; loaded: Awaited<ReturnType<typeof loadCniConfig>> }> {
  const loaded = await cachedCniConfig(confDir);
  if (loaded.config) return { ready: true, reason: "", message: "", loadStatus: loaded.loadStatus, loaded };
  return { ready: false, reason: loaded.reason, message: loaded.message, loadStatus: loaded.loadStatus, loaded };
}

/**
 * Every configured handler by name, and the default once more as "" (as containerd lists
 * them): the kubelet looks a RuntimeClass's handler up by its name, a pod without one by "".
 */
export function runtimeHandlersInfo(config: Config, features: HandlerFeatureMap) {
  return Object.keys(config.runtimes).flatMap((name) => {
    const h = { name, features: { ...(features[name] ?? NO_HANDLER_FEATURES) } };
    return name === config.defaultRuntimeName ? [h, { ...h, name: "" }] : [h];
  });
}

export function status(deps: CriDeps): RuntimeHandlers["status"] {
  const plain = replyCache(StatusResponseSchema);
  return async (req) => {
    let runtimeReady = true;
    let runtimeMessage = "";
    try {
      // A live connection is answer enough; only without one is containerd asked.
      if (!deps.containerd.connected()) await deps.containerd.version.version({}, { timeoutMs: 5000 });
    } catch (e) {
      runtimeReady = false;
      runtimeMessage = `containerd is not reachable: ${messageOf(e)}`;
    }
    const net = await networkReadiness(deps.config.cniConfDir);
    const conditions = [
      { type: "RuntimeReady", status: runtimeReady, reason: runtimeReady ? "" : "ContainerdUnreachable", message: runtimeMessage },
      { type: "NetworkReady", status: net.ready, reason: net.reason, message: net.message },
    ];
    // Handlers and features are fixed for crib's life: the reply changes with the conditions only.
    if (!req.verbose) return plain(JSON.stringify(conditions), () => statusReply(deps, conditions, {}));
    const info: Record<string, string> = {};
    if (req.verbose) {
      info["crib"] = JSON.stringify({ version: CRIB_VERSION, containerd: deps.capabilities.version, namespace: deps.config.namespace });
      info["config"] = JSON.stringify(deps.config);
      info["lastCNILoadStatus"] = net.loadStatus;
      info["cniconfig"] = JSON.stringify(cniConfigInfo(deps.config.cniBinDir.split(":").filter(Boolean), deps.config.cniConfDir, 1, net.loaded));
    }
    return statusReply(deps, conditions, info);
  };
}

function statusReply(deps: CriDeps, conditions: MessageInitShape<typeof RuntimeConditionSchema>[], info: Record<string, string>): MessageInitShape<typeof StatusResponseSchema> {
  return {
    status: { conditions },
    info,
    runtimeHandlers: runtimeHandlersInfo(deps.config, deps.handlerFeatures),
    // SupplementalGroupsPolicy (Merge/Strict) and ContainerStatus.user are implemented.
    features: { supplementalGroupsPolicy: true },
  };
}
