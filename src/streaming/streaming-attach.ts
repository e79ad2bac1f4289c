// Attach (the streaming RPC): the container must exist and run; the URL it returns joins the
// container's own stdio once opened (src/streaming/attach-session.ts).
import { invalidArgument } from "../errors.js";
import type { StreamingServer } from "./server.js";
import type { StreamingContext } from "./streaming-context.js";
import type { RuntimeHandlers } from "../common/deps.js";
import { checkStreamOptions, runningContainerId } from "./streaming-exec.js";

export function attach(ctx: StreamingContext, server: StreamingServer): RuntimeHandlers["attach"] {
  return async (req) => {
    const containerId = runningContainerId(ctx, req.containerId);
    const opts = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, tty: req.tty };
    const bad = checkStreamOptions("attach", opts);
    if (bad) throw invalidArgument(bad);
    return { url: server.issue({ kind: "attach", request: { containerId, ...opts } }) };
  };
}
