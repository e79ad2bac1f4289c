// Status: RuntimeReady while containerd answers; NetworkReady while a CNI network config
// is loadable (reason/message as containerd's CRI words them).
import { readdir } from "node:fs/promises";
import { messageOf } from "../errors.js";
import type { Config } from "../config.js";
import type { CriDeps, RuntimeHandlers } from "./deps.js";
import { CRIB_VERSION } from "./runtime-version.js";

const CNI_EXT = /\.(conflist|conf|json)$/;

export async function networkReadiness(confDir: string): Promise<{ ready: boolean; message: string }> {
  let files: string[] = [];
  try {
    files = (await readdir(confDir)).filter((f) => CNI_EXT.test(f));
  } catch {
    files = [];
  }
  if (files.length > 0) return { ready: true, message: "" };
  return { ready: false, message: `Network plugin returns error: cni plugin not initialized: no network config found in ${confDir}` };
}

export function runtimeHandlersInfo(config: Config) {
  return Object.keys(config.runtimes).map((name) => ({
    name: name === config.defaultRuntimeName ? "" : name,
    features: { recursiveReadOnlyMounts: false, userNamespaces: false },
  }));
}

export function status(deps: CriDeps): RuntimeHandlers["status"] {
  return async (req) => {
    let runtimeReady = true;
    let runtimeMessage = "";
    try {
      await deps.containerd.version.version({}, { timeoutMs: 5000 });
    } catch (e) {
      runtimeReady = false;
      runtimeMessage = `containerd is not reachable: ${messageOf(e)}`;
    }
    const net = await networkReadiness(deps.config.cniConfDir);
    const info: Record<string, string> = {};
    if (req.verbose) {
      info["crib"] = JSON.stringify({ version: CRIB_VERSION, containerd: deps.capabilities.version, namespace: deps.config.namespace });
      info["config"] = JSON.stringify(deps.config);
    }
    return {
      status: {
        conditions: [
          { type: "RuntimeReady", status: runtimeReady, reason: runtimeReady ? "" : "ContainerdUnreachable", message: runtimeMessage },
          { type: "NetworkReady", status: net.ready, reason: net.ready ? "" : "NetworkPluginNotReady", message: net.message },
        ],
      },
      info,
      runtimeHandlers: runtimeHandlersInfo(deps.config),
    };
  };
}
