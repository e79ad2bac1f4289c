// Exec (the streaming RPC; ExecSync is container-exec-sync.ts): validates the request as
// kubelet's streaming library and containerd do, then returns a one-time URL on the
// streaming server. Nothing runs until a client opens the URL (src/streaming/exec-session.ts).
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, invalidArgument } from "../errors.js";
import { stateName } from "../container/container-store.js";
import type { StreamingServer } from "./server.js";
import type { RemoteCommandOptions } from "./remote-command-io.js";
import type { StreamingContext } from "./streaming-context.js";
import type { RuntimeHandlers } from "../common/deps.js";
import { validateExecCommand } from "../common/validate-config.js";

/**
 * kubelet's validateExecRequest/validateAttachRequest (tty with stderr cannot be
 * multiplexed; some stream must be asked for), plus, for exec, an output to read unless
 * there is a tty.
 */
export function checkStreamOptions(kind: "exec" | "attach", o: RemoteCommandOptions): string | undefined {
  if (o.tty && o.stderr) return "tty and stderr cannot both be true";
  if (!o.stdin && !o.stdout && !o.stderr) return "one of stdin, stdout, or stderr must be set";
  if (kind === "exec" && !o.tty && !o.stdout && !o.stderr) return "one of stdout or stderr must be set without a tty";
  return undefined;
}

/** The container a streaming request names, which must be running (FAILED_PRECONDITION otherwise). */
export function runningContainerId(ctx: StreamingContext, containerId: string): string {
  if (containerId === "") throw invalidArgument("missing required container_id");
  const c = ctx.containers.get(containerId);
  if (c.state !== ContainerState.CONTAINER_RUNNING) throw failedPrecondition(`container is in ${stateName(c.state)} state`);
  return c.id;
}

export function exec(ctx: StreamingContext, server: StreamingServer): RuntimeHandlers["exec"] {
  return async (req) => {
    const containerId = runningContainerId(ctx, req.containerId);
    validateExecCommand(req.cmd);
    const opts = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, tty: req.tty };
    const bad = checkStreamOptions("exec", opts);
    if (bad) throw invalidArgument(bad);
    return { url: server.issue({ kind: "exec", request: { containerId, cmd: [...req.cmd], ...opts } }) };
  };
}
