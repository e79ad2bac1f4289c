// PortForward (the streaming RPC): the pod must exist and be ready; the URL it returns
// forwards connections into the pod's network namespace (src/streaming/port-forward-session.ts).
import { failedPrecondition, invalidArgument } from "../errors.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import type { StreamingServer } from "./server.js";
import type { PodNetwork } from "./port-forwarder.js";
import type { RuntimeHandlers } from "../common/deps.js";

/** The network a ready pod's connections are made in ("" netns: the host's). */
export function readyPodNetwork(sandboxes: SandboxStore, podSandboxId: string): PodNetwork {
  if (podSandboxId === "") throw invalidArgument("missing required pod_sandbox_id");
  const s = sandboxes.get(podSandboxId);
  if (s.state !== "ready") throw failedPrecondition(`sandbox container "${s.meta.id}" is not running`);
  return { sandboxId: s.meta.id, netnsPath: s.meta.netnsPath };
}

export function portForward(sandboxes: SandboxStore, server: StreamingServer): RuntimeHandlers["portForward"] {
  return async (req) => {
    const { sandboxId } = readyPodNetwork(sandboxes, req.podSandboxId);
    // kubelet's BuildV4Options, checked here rather than when the URL is opened.
    const bad = req.port.find((p) => p <= 0 || p > 65535);
    if (bad !== undefined) throw invalidArgument(`invalid port ${bad}`);
    return { url: server.issue({ kind: "portforward", request: { podSandboxId: sandboxId, ports: [...req.port] } }) };
  };
}
