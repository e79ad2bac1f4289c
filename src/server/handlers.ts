// Which CRI RPCs crib serves and the long-lived services behind them. An RPC missing here
// answers UNIMPLEMENTED (the kubelet falls back only on that code).
import type { CriDeps, ImageHandlers, RuntimeHandlers } from "../cri/deps.js";
import { runtimeConfig } from "../cri/runtime-config.js";
import { status } from "../cri/runtime-status.js";
import { version } from "../cri/runtime-version.js";

/** Long-lived state (stores, background loops) created once at start. */
export interface Services {
  stop(): Promise<void>;
}

export async function startServices(_deps: CriDeps): Promise<Services> {
  return { stop: async () => {} };
}

export function runtimeHandlers(deps: CriDeps, _s: Services): Partial<RuntimeHandlers> {
  return {
    version: version(deps),
    status: status(deps),
    runtimeConfig: runtimeConfig(deps),
  };
}

export function imageHandlers(_deps: CriDeps, _s: Services): Partial<ImageHandlers> {
  return {};
}
