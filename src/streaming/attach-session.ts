// One attach over the streaming server, as containerd's attachContainer and
// ContainerIO.Attach do it: the client joins the running container's own stdio. Output is
// fanned out by the container's log pump, so the CRI log keeps every line while clients
// are attached, and a client that stops reading holds the container's output back as
// containerd's writer group does. The client's stdin goes into the container's stdin FIFO
// (kept open by crib for containers created with stdin); when it ends, a stdin_once
// container without a tty gets its stdin closed (Tasks.CloseIO) and the client keeps the
// output until the container exits, otherwise the client is detached. The session ends
// when the container's output ends (Success status) or the client goes away (detach).
import type { Writable } from "node:stream";
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, isNotFound, messageOf, notFound } from "../errors.js";
import { stateName, type AttachedIO, type Container } from "../container/container-store.js";
import type { StreamingContext } from "./streaming-context.js";
import { successStatus, type Status } from "./remotecommand/status.js";
import type { RemoteCommandIO } from "./remote-command-io.js";
import { forwardResizes } from "./session-stdio.js";

export interface AttachSessionRequest {
  containerId: string;
  tty: boolean;
}

/** What attach needs from a running container's stdio (crib's ContainerIO). */
export interface AttachableIO extends AttachedIO {
  /** The stdin FIFO's write end, for containers created with stdin (until stdin_once closed it). */
  readonly stdin: Writable | undefined;
  /**
   * Copies the container's stdout or stderr to `sink` as well as to the log, until the
   * returned function is called, the sink closes, or the output ends. A sink that does not
   * keep up pauses the output.
   */
  attachOutput(stream: "stdout" | "stderr", sink: Writable): () => void;
}

export function isAttachable(io: AttachedIO | undefined): io is AttachableIO {
  return io !== undefined && typeof (io as Partial<AttachableIO>).attachOutput === "function";
}

/** apierrors.NewInternalError(fmt.Errorf("error attaching to container: %v", err)). */
export function attachErrorStatus(error: string): Status {
  const wrapped = `error attaching to container: ${error}`;
  return { status: "Failure", message: `Internal error occurred: ${wrapped}`, reason: "InternalError", causes: [{ message: wrapped }], code: 500 };
}

export async function serveAttach(ctx: StreamingContext, req: AttachSessionRequest, io: RemoteCommandIO): Promise<void> {
  let status: Status;
  try {
    await attachToContainer(ctx, req, io);
    status = successStatus();
  } catch (e) {
    ctx.deps.logger.warn("attach session failed", { containerId: req.containerId, error: messageOf(e) });
    status = attachErrorStatus(messageOf(e));
  }
  if (!io.isClosed()) await io.finish(status);
}

function attachableContainer(ctx: StreamingContext, containerId: string): { c: Container; stdio: AttachableIO } {
  const c = ctx.containers.find(containerId);
  if (!c) throw notFound(`failed to find container "${containerId}" in store: not found`);
  if (c.state !== ContainerState.CONTAINER_RUNNING) throw failedPrecondition(`container is in ${stateName(c.state)} state`);
  if (!isAttachable(c.io)) throw failedPrecondition(`container "${c.id}" has no attachable stdio`);
  return { c, stdio: c.io };
}

async function attachToContainer(ctx: StreamingContext, req: AttachSessionRequest, io: RemoteCommandIO): Promise<void> {
  const { c, stdio } = attachableContainer(ctx, req.containerId);
  const cd = ctx.deps.containerd;
  const ids = { containerId: c.id };
  if (io.resize) {
    forwardResizes(
      io.resize,
      async (size) => {
        await cd.tasks.resizePty({ ...ids, execId: "", width: size.width, height: size.height });
      },
      (e) => ctx.deps.logger.debug("attach resize failed", { ...ids, error: messageOf(e) }),
    );
  }
  let detach!: () => void;
  const detached = new Promise<void>((resolve) => (detach = resolve));
  const detachers: Array<() => void> = [];
  if (io.stdout) detachers.push(stdio.attachOutput("stdout", io.stdout));
  if (io.stderr && !req.tty) detachers.push(stdio.attachOutput("stderr", io.stderr));

  const containerStdin = stdio.stdin;
  if (io.stdin && containerStdin && !containerStdin.destroyed) {
    const clientStdin = io.stdin;
    const stdinOnce = c.meta.config.stdinOnce;
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      clientStdin.unpipe(containerStdin);
      if (stdinOnce && !req.tty) {
        containerStdin.end(() => containerStdin.destroy());
        cd.tasks.closeIO({ ...ids, execId: "", stdin: true }).catch((e) => {
          if (!isNotFound(e)) ctx.deps.logger.warn("failed to close container stdin", { ...ids, error: messageOf(e) });
        });
      } else {
        detach();
      }
    };
    clientStdin.once("end", onEnd);
    clientStdin.once("close", onEnd);
    clientStdin.on("error", onEnd);
    clientStdin.pipe(containerStdin, { end: false });
  } else {
    // No stdin to feed (or stdin_once already closed it): what the client sends is dropped,
    // so that it cannot back up the connection.
    io.stdin?.resume();
  }
  try {
    await Promise.race([stdio.done, io.closed, detached]);
  } finally {
    for (const d of detachers) d();
    io.stdin?.unpipe();
  }
}
