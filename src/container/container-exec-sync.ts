// ExecSync: runs a command in a running container (Tasks.Exec with the container's own
// process spec and the requested argv) and returns its output and exit code. Output is
// kept up to 16 MiB per stream and dropped beyond (containerd's cappedWriter), the timeout
// kills the process and answers DEADLINE_EXCEEDED, and the exec process and its FIFOs are
// always deleted afterwards.
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import { deadlineExceeded, failedPrecondition, isNotFound, messageOf, wrap } from "../errors.js";
import { jsonAny } from "../containerd/any.js";
import { OCI_PROCESS_TYPE_URL } from "../oci/spec-types.js";
import { openFifoReader, removeFifos, type FifoReader, type FifoSet } from "../io/fifo.js";
import { buildExecProcessSpec } from "../oci/exec-spec.js";
import { stateName, type Container } from "./container-store.js";
import type { RuntimeHandlers } from "../common/deps.js";
import type { ContainerContext } from "./container-context.js";
import { CappedBuffer } from "../io/capped-buffer.js";
import { majorVersion } from "../containerd/capabilities.js";
import { gateExecStart } from "./exec-start-gate.js";
import { secondsToTimeoutMs, timerDelay } from "../timer-limit.js";
import { validateExecCommand } from "../common/validate-config.js";

/** containerd's maxStreamSize: beyond it the response would exceed gRPC's limits anyway. */
export const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;
/** After the process exits, how long output may still trickle in (children holding the pipe). */
const DRAIN_MS = 10_000;
const SIGKILL = 9;

function collect(stream: Readable, into: CappedBuffer): Promise<void> {
  return new Promise((resolve) => {
    stream.on("data", (c: Buffer) => into.push(c));
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
}

const timer = (ms: number) => {
  let t: NodeJS.Timeout | undefined;
  const p = new Promise<"timeout">((r) => (t = setTimeout(() => r("timeout"), ms)));
  return { p, cancel: () => clearTimeout(t) };
};

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export async function execSyncNow(ctx: ContainerContext, c: Container, cmd: readonly string[], timeoutSec: number, signal?: AbortSignal): Promise<ExecResult> {
  const state = c.state;
  if (state !== ContainerState.CONTAINER_RUNNING) throw failedPrecondition(`container is in ${stateName(state)} state`);
  const cd = ctx.deps.containerd;
  const spec = buildExecProcessSpec(c.record.spec, cmd, false);
  const execId = randomBytes(32).toString("hex");
  const readers: FifoReader[] = [];
  let created = false;
  // Made ahead in the pool's dir and used there (containerd makes them in the container's
  // dir): no mkdir, stat or rename before the exec.
  let taken: FifoSet | undefined;
  try {
    const [stdoutPath, stderrPath] = (await ctx.fifos.take(2)) as [string, string];
    const fifos: FifoSet = { dir: ctx.fifos.dir, stdin: "", stdout: stdoutPath, stderr: stderrPath, terminal: false };
    taken = fifos;
    const out = new CappedBuffer(MAX_EXEC_OUTPUT);
    const err = new CappedBuffer(MAX_EXEC_OUTPUT);
    const opened = await Promise.allSettled([openFifoReader(fifos.stdout), openFifoReader(fifos.stderr)]);
    for (const r of opened) if (r.status === "fulfilled") readers.push(r.value);
    for (const r of opened) if (r.status === "rejected") throw r.reason;
    const [stdout, stderr] = readers as [FifoReader, FifoReader];
    const drained = Promise.all([collect(stdout.stream, out), collect(stderr.stream, err)]);

    const { waited } = await gateExecStart(c.id, majorVersion(ctx.deps.capabilities.version) < 2, async () => {
      await cd.tasks
        .exec({ containerId: c.id, execId, spec: jsonAny(OCI_PROCESS_TYPE_URL, spec), stdin: "", stdout: fifos.stdout, stderr: fifos.stderr, terminal: false })
        .catch((e) => {
          throw wrap(e, `failed to create exec "${execId}"`);
        });
      created = true;
      // Waiting starts before the process does, so a quick exit cannot be missed.
      const w = cd.tasks.wait({ containerId: c.id, execId }, { timeoutMs: 0 });
      w.catch(() => undefined);
      await cd.tasks.start({ containerId: c.id, execId }).catch((e) => {
        throw wrap(e, `failed to start exec "${execId}"`);
      });
      return { waited: w };
    });
    // The shim holds the FIFOs now: their EOF means the process's output is complete.
    await Promise.all(readers.map((r) => r.releasePlaceholder()));

    // Past Node's timer limit (about 24.8 days) a timeout means none, not "at once".
    const timeoutMs = secondsToTimeoutMs(timeoutSec);
    const deadline = timerDelay(timeoutMs) !== undefined ? timer(timeoutMs) : undefined;
    const aborted = new Promise<"aborted">((r) => signal?.addEventListener("abort", () => r("aborted"), { once: true }));
    const first = await Promise.race([waited, ...(deadline ? [deadline.p] : []), aborted]);
    deadline?.cancel();
    if (first === "timeout" || first === "aborted") {
      await cd.tasks.kill({ containerId: c.id, execId, signal: SIGKILL, all: false }).catch((e) => {
        if (!isNotFound(e)) throw wrap(e, `failed to kill exec "${execId}"`);
      });
      await waited.catch(() => undefined);
      if (first === "aborted") throw new Error(`exec "${execId}" cancelled by the client`);
      throw deadlineExceeded(`failed to exec in container: timeout ${timeoutSec}s exceeded: context deadline exceeded`);
    }
    const drain = timer(DRAIN_MS);
    if ((await Promise.race([drained, drain.p])) === "timeout") {
      ctx.deps.logger.warn("exec process exited but its output is still held open; deleting it", { containerId: c.id, execId });
    }
    drain.cancel();
    return { stdout: out.bytes(), stderr: err.bytes(), exitCode: first.exitStatus };
  } finally {
    // The exited process's record in the shim is deleted without waiting for the answer
    // (containerd's CRI waits): the reply does not depend on it, a later call on the same
    // container finds it gone or NotFound, and one a crash leaves goes with the task. The
    // FIFOs are gone before the reply.
    if (created) {
      void cd.tasks.deleteProcess({ containerId: c.id, execId }).catch((e) => {
        if (!isNotFound(e)) ctx.deps.logger.warn("failed to delete exec process", { containerId: c.id, execId, error: messageOf(e) });
      });
    }
    for (const r of readers) r.destroy();
    if (taken) await removeFifos(taken).catch(() => undefined);
  }
}

export function execSync(ctx: ContainerContext): RuntimeHandlers["execSync"] {
  return async (req, call) => {
    validateExecCommand(req.cmd);
    const c = ctx.containers.get(req.containerId);
    // A kubelet that gave up (its own deadline) cancels the call: the process goes too.
    const abort = new AbortController();
    call?.on?.("cancelled", () => abort.abort());
    const r = await execSyncNow(ctx, c, req.cmd, Number(req.timeout), abort.signal);
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  };
}
