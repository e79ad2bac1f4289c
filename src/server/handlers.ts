// The composition root: builds crib's features bottom-up (each folder's one factory, given
// CriDeps and the `api` of the lower features it uses), starts and stops them in crib's
// order and merges their handlers. Which CRI RPCs crib serves is the union of the
// features' handlers; an RPC missing here answers UNIMPLEMENTED (the kubelet falls back
// only on that code).
import type { CriDeps, ImageHandlers, RuntimeHandlers } from "../common/deps.js";
import type { Feature } from "../common/feature.js";
import { messageOf } from "../errors.js";
import { TaskExitMonitor } from "../containerd/task-exits.js";
import { imageFeature } from "../image/image-feature.js";
import { containerFeature } from "../container/container-feature.js";
import { sweepOrphanShims } from "../container/shim-sweep.js";
import { podFeature } from "../pod/pod-feature.js";
import { podLookup } from "../pod/pod-lookup.js";
import { SandboxStore } from "../pod/sandbox-store.js";
import { runtimeFeature } from "../runtime/runtime-feature.js";
import { ContainerEventHub } from "../events/container-events.js";
import { eventsFeature } from "../events/events-feature.js";
import { statsFeature } from "../stats/stats-feature.js";
import { streamingFeature } from "../streaming/streaming-feature.js";
import { metricsFeature } from "../metrics/metrics-feature.js";
import type { RunningMetrics } from "../metrics/start-metrics.js";
// --- cri-api v0.36 ---
import { imageStreamHandlers, runtimeStreamHandlers } from "./list-streams.js";

/** How often the orphaned-shim sweep runs again after start-up. */
const SHIM_SWEEP_INTERVAL_MS = 15_000;

/** crib's features, built and started; what the server serves and stops. */
export interface Services {
  /** Every feature's RuntimeService handlers, merged. */
  runtime: Partial<RuntimeHandlers>;
  /** Every feature's ImageService handlers, merged. */
  image: Partial<ImageHandlers>;
  /** The metrics endpoint, when metrics_address is set (issue 6). */
  metrics: RunningMetrics | undefined;
  /** GetContainerEvents' feed (issue 6); closed first when crib stops. */
  events: ContainerEventHub;
  stop(): Promise<void>;
}

export async function startServices(deps: CriDeps): Promise<Services> {
  const image = await imageFeature(deps);
  // Made here because features at several levels use them: pods and containers emit into
  // the hub (their ContainerEventSink), events reads it; the pod store is pod's, the
  // container feature reads it through its own PodLookup interface.
  const hub = new ContainerEventHub(deps.logger);
  const sandboxes = new SandboxStore();
  const images = image.api.provider;
  const container = containerFeature(deps, { sandboxes: podLookup(deps.config, sandboxes), images, events: hub });
  const pod = podFeature(deps, { sandboxes, images, events: hub, containers: container.api });
  const containers = container.api.containers;
  // Before anything asks a shim: a shim a crash left in Tasks.Create would stall it (issue 10).
  await container.api.releaseInterruptedCreates();
  await pod.start();
  // --- containers (issue 4): recovered after the pods, before exits are watched, so the
  // reconcile after subscribing covers every exit that happened meanwhile.
  await container.start();
  // --- crash leftovers (issue 10): orphaned shims are stopped while crib already serves ---
  // Again every 15 s: a shim whose start containerd was still finishing when crib restarted
  // only becomes an orphan (bundle deleted) after the first sweep.
  let shimSweep = sweepOrphanShims(deps).catch((e) => deps.logger.warn("orphaned shim sweep failed", { error: messageOf(e) }));
  const shimSweeps = setInterval(() => {
    shimSweep = shimSweep.then(() => sweepOrphanShims(deps)).catch((e) => deps.logger.warn("orphaned shim sweep failed", { error: messageOf(e) }));
  }, SHIM_SWEEP_INTERVAL_MS);
  shimSweeps.unref();
  const events = eventsFeature(deps, { hub, sandboxes, containers, images });
  await events.start();
  const stats = await statsFeature(deps, { sandboxes, containers, imageFsMountpoint: image.api.fsMountpoint });
  const runtime = runtimeFeature(deps, { containers, images });
  // Exits go to the pod first (a pause container), else to the container feature.
  const exits = new TaskExitMonitor(
    deps.containerd,
    {
      onExit: (e) => {
        if (!pod.api.handleExit(e)) container.api.handleExit(e);
      },
      onOOM: (id) => {
        container.api.handleOOM(id);
      },
      reconcile: async () => {
        await pod.api.reconcile();
        await container.api.reconcile();
      },
    },
    deps.logger,
  );
  await exits.start();
  let metrics: Feature<RunningMetrics | undefined> | undefined;
  let streaming: Feature | undefined;
  const stop = async () => {
    await events.stop();
    // --- streaming (issue 5): sessions dropped (exec processes killed) while containerd is still used ---
    await streaming?.stop();
    await metrics?.stop();
    await exits.stop();
    await container.stop();
    await image.stop();
    clearInterval(shimSweeps);
    await shimSweep;
  };
  // --- metrics endpoint (issue 6): off unless metrics_address is set ---
  try {
    metrics = await metricsFeature(deps, { sandboxes, containers, puller: image.api.pulls });
    // --- streaming server (issue 5) ---
    streaming = await streamingFeature(deps, { containers, sandboxes });
  } catch (e) {
    await stop();
    throw e;
  }
  const features: Feature<unknown>[] = [runtime, pod, container, events, stats, streaming, image, metrics];
  const merged: Partial<RuntimeHandlers> = Object.assign({}, ...features.map((f) => f.runtime));
  const imageRpcs: Partial<ImageHandlers> = Object.assign({}, ...features.map((f) => f.image));
  return {
    // --- cri-api v0.36: Stream* (the List RPCs in chunks) ---
    runtime: { ...merged, ...runtimeStreamHandlers(merged) },
    image: { ...imageRpcs, ...imageStreamHandlers(imageRpcs) },
    metrics: metrics.api,
    events: hub,
    stop,
  };
}

export function runtimeHandlers(_deps: CriDeps, s: Services): Partial<RuntimeHandlers> {
  return s.runtime;
}

export function imageHandlers(_deps: CriDeps, s: Services): Partial<ImageHandlers> {
  return s.image;
}
