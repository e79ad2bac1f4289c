// ReopenContainerLog: the kubelet renamed the container's log file (rotation) and asks for
// a fresh one at the same path; records read before the call go to the old file.
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, wrap } from "../errors.js";
import type { RuntimeHandlers } from "../common/deps.js";
import type { ContainerContext } from "./container-context.js";

export function reopenContainerLog(ctx: ContainerContext): RuntimeHandlers["reopenContainerLog"] {
  return async (req) => {
    const c = ctx.containers.get(req.containerId);
    if (c.state !== ContainerState.CONTAINER_RUNNING || !c.io) throw failedPrecondition("container is not running");
    await c.io.reopenLog().catch((e) => {
      throw wrap(e, "failed to create and open log file");
    });
    return {};
  };
}
