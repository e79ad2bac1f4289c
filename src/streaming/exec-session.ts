// One exec over the streaming server, as containerd's CRI runs it (execInternal behind the
// kubelet streaming library's ServeExec): the container's own process spec with the
// requested argv (and a pty for tty), stdio through FIFOs (made ahead, see exec-fifo-pool), resize
// events to Tasks.ResizePty, client stdin EOF to Tasks.CloseIO, and once the process exited
// and its output drained, the v4 error stream's Status with the exit code. The exec process
// and its FIFOs are always deleted. A client that goes away does not leave the process
// behind: nobody could read its output or its exit code, so it is killed.
import { randomBytes } from "node:crypto";
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, isNotFound, messageOf, notFound, wrap } from "../errors.js";
import { jsonAny } from "../containerd/any.js";
import { OCI_PROCESS_TYPE_URL } from "../oci/spec-types.js";
import { openFifoReader, openFifoWriter, removeFifos, type FifoReader, type FifoSet } from "../io/fifo.js";
import { buildExecProcessSpec } from "../oci/exec-spec.js";
import { stateName } from "../container/container-store.js";
import type { StreamingContext } from "./streaming-context.js";
import type { ExecFifoPool } from "./exec-fifo-pool.js";
import { gateExecStart } from "../container/exec-start-gate.js";
import { majorVersion } from "../containerd/capabilities.js";
import {
  execExitDetail,
  internalErrorStatus,
  nonZeroExitStatus,
  successStatus,
  type Status,
} from "./remotecommand/status.js";
import type { RemoteCommandIO } from "./remote-command-io.js";
import { copyOutput, copyStdin, forwardResizes } from "./session-stdio.js";

export interface ExecSessionRequest {
  containerId: string;
  cmd: readonly string[];
  tty: boolean;
}

const SIGKILL = 9;
/** After the process exited, how long output may still trickle in (children holding the pipe). */
export const OUTPUT_DRAIN_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Runs the exec and reports its outcome to the client (nothing, if the client is gone). */
export async function serveExec(ctx: StreamingContext, pool: ExecFifoPool, req: ExecSessionRequest, io: RemoteCommandIO): Promise<void> {
  const log = { containerId: req.containerId };
  let status: Status;
  try {
    const exitCode = await execInContainer(ctx, pool, req, io);
    status = exitCode === 0 ? successStatus() : nonZeroExitStatus(exitCode, execExitDetail(req.cmd, exitCode));
  } catch (e) {
    ctx.deps.logger.warn("exec session failed", { ...log, error: messageOf(e) });
    status = internalErrorStatus(`failed to exec in container: ${messageOf(e)}`);
  }
  if (!io.isClosed()) await io.finish(status);
}

async function execInContainer(ctx: StreamingContext, pool: ExecFifoPool, req: ExecSessionRequest, io: RemoteCommandIO): Promise<number> {
  const c = ctx.containers.find(req.containerId);
  if (!c) throw notFound(`failed to find container "${req.containerId}" in store: not found`);
  if (c.state !== ContainerState.CONTAINER_RUNNING) throw failedPrecondition(`container is in ${stateName(c.state)} state`);
  const cd = ctx.deps.containerd;
  const spec = buildExecProcessSpec(c.record.spec, req.cmd, req.tty);
  const execId = randomBytes(32).toString("hex");
  const ids = { containerId: c.id, execId };
  const readers: FifoReader[] = [];
  const waitAbort = new AbortController();
  let created = false;
  let exited = false;
  let stdinFifo: Awaited<ReturnType<typeof openFifoWriter>> | undefined;
  let waited: Promise<unknown> = Promise.resolve();
  let fifos: FifoSet | undefined;
  try {
    fifos = await pool.take({ stdin: io.stdin !== undefined, terminal: req.tty });
    const stdout = await openFifoReader(fifos.stdout);
    readers.push(stdout);
    const stderr = fifos.stderr ? await openFifoReader(fifos.stderr) : undefined;
    if (stderr) readers.push(stderr);
    if (fifos.stdin) stdinFifo = await openFifoWriter(fifos.stdin);

    const execFifos = fifos;
    const { waiting } = await gateExecStart(ids.containerId, majorVersion(ctx.deps.capabilities.version) < 2, async () => {
      await cd.tasks
        .exec({ ...ids, spec: jsonAny(OCI_PROCESS_TYPE_URL, spec), stdin: execFifos.stdin, stdout: execFifos.stdout, stderr: execFifos.stderr, terminal: req.tty })
        .catch((e) => {
          throw wrap(e, `failed to create exec "${execId}"`);
        });
      created = true;
      // Waiting starts before the process does, so a quick exit cannot be missed.
      const w = cd.tasks.wait(ids, { timeoutMs: 0, signal: waitAbort.signal });
      waited = w.catch(() => undefined);
      await cd.tasks.start(ids).catch((e) => {
        throw wrap(e, `failed to start exec "${execId}"`);
      });
      return { waiting: w };
    });
    // Copying starts before the placeholders go: a FIFO whose EOF came first would end
    // (and close) unwatched.
    const output = Promise.all([copyOutput(stdout.stream, io.stdout), stderr ? copyOutput(stderr.stream, io.stderr) : undefined]);
    // The shim holds the FIFOs now: their EOF means the process's output is complete.
    await Promise.all(readers.map((r) => r.releasePlaceholder()));
    if (stdinFifo && io.stdin) {
      copyStdin(io.stdin, stdinFifo, () => {
        cd.tasks.closeIO({ ...ids, stdin: true }).catch((e) => {
          if (!isNotFound(e)) ctx.deps.logger.warn("failed to close exec stdin", { ...ids, error: messageOf(e) });
        });
      });
    }
    if (io.resize) {
      forwardResizes(
        io.resize,
        async (size) => {
          await cd.tasks.resizePty({ ...ids, width: size.width, height: size.height });
        },
        (e) => ctx.deps.logger.debug("exec resize failed", { ...ids, error: messageOf(e) }),
      );
    }

    const first = await Promise.race([waiting, io.closed.then(() => "dropped" as const)]);
    if (first === "dropped") {
      ctx.deps.logger.debug("exec client went away; killing the process", ids);
      await cd.tasks.kill({ ...ids, signal: SIGKILL, all: false }).catch((e) => {
        if (!isNotFound(e)) throw wrap(e, `failed to kill exec "${execId}"`);
      });
      const killed = await waiting;
      exited = true;
      return killed.exitStatus;
    }
    exited = true;
    if ((await Promise.race([output.then(() => "drained" as const), sleep(OUTPUT_DRAIN_MS)])) !== "drained") {
      ctx.deps.logger.warn("exec process exited but its output is still held open; ending the session", ids);
    }
    return first.exitStatus;
  } finally {
    if (created && !exited) {
      // Failed half-way: containerd's process.Delete(WithProcessKill).
      await cd.tasks.kill({ ...ids, signal: SIGKILL, all: false }).catch(() => undefined);
      await Promise.race([waited, sleep(2000)]);
    }
    waitAbort.abort();
    if (created) {
      await cd.tasks.deleteProcess(ids).catch((e) => {
        if (!isNotFound(e)) ctx.deps.logger.warn("failed to delete exec process", { ...ids, error: messageOf(e) });
      });
    }
    for (const r of readers) r.destroy();
    stdinFifo?.destroy();
    if (fifos) await removeFifos(fifos).catch(() => undefined);
  }
}
