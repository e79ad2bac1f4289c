// StopContainer: the stop signal (config, else the image's StopSignal, else SIGTERM), then
// SIGKILL once the timeout is over; returns when the exit is recorded. Idempotent: an
// unknown, created or exited container stops without error (the CRI requires it).
import { ContainerState, Signal } from "../gen/runtime/v1/api_pb.js";
import { isNotFound, wrap } from "../errors.js";
import type { Container } from "./container-store.js";
import type { RuntimeHandlers } from "../common/deps.js";
import type { ContainerContext } from "./container-context.js";
import { reconcileContainer } from "./container-exits.js";
import { criSignalToOci, parseSignal } from "./container-signals.js";
import { secondsToTimeoutMs } from "../timer-limit.js";

const SIGKILL = 9;
/** While waiting for an exit, ask containerd this often in case the event went missing. */
const RECHECK_MS = 1000;
/** A SIGKILLed process that has not exited by then is stuck in the kernel. */
const KILL_WAIT_MS = 60_000;

/** The signal a graceful stop sends, by containerd's precedence. */
export function stopSignalName(ctx: ContainerContext, c: Container): string {
  const configured = c.meta.config.stopSignal;
  if (configured !== Signal.RUNTIME_DEFAULT) return criSignalToOci(configured);
  if (c.meta.stopSignal) return c.meta.stopSignal;
  // Containers created before the signal was recorded: the image may still say.
  return ctx.state.images.resolve(c.meta.imageRef)?.config.StopSignal || "SIGTERM";
}

/** Waits up to ms for the exit to be recorded, asking containerd every RECHECK_MS. */
async function waitStopped(ctx: ContainerContext, c: Container, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let stopped = false;
  void c.stopped.then(() => (stopped = true));
  while (!stopped) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await Promise.race([c.stopped, new Promise((r) => setTimeout(r, Math.min(left, RECHECK_MS)).unref())]);
    if (!stopped && Date.now() < deadline) await reconcileContainer(ctx, c).catch(() => undefined);
    await Promise.resolve();
  }
  return true;
}

async function kill(ctx: ContainerContext, c: Container, signal: number): Promise<void> {
  try {
    await ctx.deps.containerd.tasks.kill({ containerId: c.id, signal, all: false });
  } catch (e) {
    // The task is already gone: its exit is being (or will be) recorded.
    if (!isNotFound(e)) throw wrap(e, `failed to stop container "${c.id}"`);
  }
}

/** Stops a running (or unknown) container: timeoutSec 0 kills at once. */
export async function stopContainerNow(ctx: ContainerContext, c: Container, timeoutSec: number): Promise<void> {
  const state = c.state;
  if (state !== ContainerState.CONTAINER_RUNNING && state !== ContainerState.CONTAINER_UNKNOWN) return;
  if (state === ContainerState.CONTAINER_UNKNOWN) {
    // Nothing may be watching this task: learn its state from containerd first.
    ctx.containers.update(c, (s) => {
      s.unknown = false;
      s.startedAt ||= s.createdAt;
    });
    try {
      await reconcileContainer(ctx, c);
    } catch (e) {
      ctx.containers.update(c, (s) => {
        s.unknown = true;
      });
      throw wrap(e, `failed to get task for container "${c.id}"`);
    }
    if (c.state !== ContainerState.CONTAINER_RUNNING) return;
  }
  if (timeoutSec > 0) {
    const signal = parseSignal(stopSignalName(ctx, c));
    // Sent once: a repeated StopContainer waits for the first signal instead of resending it.
    if (!c.stopSignalSent) {
      c.stopSignalSent = true;
      await kill(ctx, c, signal);
    }
    // A timeout past Node's timer limit is Infinity: wait for the exit, re-checking.
    if (await waitStopped(ctx, c, secondsToTimeoutMs(timeoutSec))) return;
  }
  await kill(ctx, c, SIGKILL);
  if (!(await waitStopped(ctx, c, KILL_WAIT_MS))) {
    throw new Error(`an error occurs during waiting for container "${c.id}" to be killed: wait container "${c.id}": timed out`);
  }
}

export function stopContainer(ctx: ContainerContext): RuntimeHandlers["stopContainer"] {
  return async (req) => {
    const c = ctx.containers.find(req.containerId);
    if (!c) return {};
    await stopContainerNow(ctx, c, Number(req.timeout));
    return {};
  };
}
