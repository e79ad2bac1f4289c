// Which CRI RPCs crib serves and the long-lived services behind them. An RPC missing here
// answers UNIMPLEMENTED (the kubelet falls back only on that code).
import type { CriDeps, ImageHandlers, RuntimeHandlers, RuntimeState } from "../common/deps.js";
import { runtimeConfig } from "../runtime/runtime-config.js";
import { status } from "../runtime/runtime-status.js";
import { version } from "../runtime/runtime-version.js";
import { startImages, type Images } from "../image/images.js";
import { imageFsInfo } from "../image/image-fs-info.js";
import { listImages } from "../image/image-list.js";
import { pullImage } from "../image/image-pull.js";
import { removeImage } from "../image/image-remove.js";
import { imageStatus } from "../image/image-status.js";
import { imageProvider } from "../image/image-provider.js";
import { SandboxStore } from "../pod/sandbox-store.js";
import { TaskExitMonitor } from "../containerd/task-exits.js";
import { runPodSandbox } from "../pod/sandbox-run.js";
import { stopPodSandbox } from "../pod/sandbox-stop.js";
import { removePodSandbox } from "../pod/sandbox-remove.js";
import { listPodSandbox, podSandboxStatus } from "../pod/sandbox-status.js";
import { recoverSandboxes } from "../pod/sandbox-recover.js";
import { sweepOrphanShims } from "../container/shim-sweep.js";
import { messageOf } from "../errors.js";
import { handleSandboxExit, reconcileSandboxes } from "../pod/sandbox-exits.js";
// --- containers (issue 4) ---
import { ContainerService } from "../container/container-service.js";
// --- stats, events, metrics (issue 6) ---
import { startMetrics, type RunningMetrics } from "../metrics/start-metrics.js";
import { metricSources } from "../metrics/metric-sources.js";
import { ContainerEventHub } from "../events/container-events.js";
import { eventStatusSource } from "../events/events-statuses.js";
import { getContainerEvents } from "../events/events-get.js";
import { StatsService } from "../stats/stats-service.js";
import { updateRuntimeConfig } from "../runtime/runtime-update-config.js";
import { checkpointContainer } from "../runtime/runtime-checkpoint.js";
// --- cri-api v0.36 ---
import { imageStreamHandlers, runtimeStreamHandlers } from "./list-streams.js";
import { updatePodSandboxResources } from "../pod/sandbox-update-resources.js";
// --- streaming (issue 5) ---
import { StreamingService } from "../streaming/streaming-service.js";

/** How often the orphaned-shim sweep runs again after start-up. */
const SHIM_SWEEP_INTERVAL_MS = 15_000;

/** Long-lived state (stores, background loops) created once at start. */
export interface Services {
  images: Images;
  runtime: RuntimeState;
  /** The container RPCs, exit handling and recovery (issue 4); the pod RPCs take a pod's containers with it through its stopContainers/removeContainers. */
  containerService: ContainerService;
  /** The metrics endpoint, when metrics_address is set (issue 6). */
  metrics: RunningMetrics | undefined;
  /** GetContainerEvents' feed (issue 6); closed first when crib stops. */
  events: ContainerEventHub;
  /** Container and pod stats, cAdvisor-style metrics (issue 6). */
  stats: StatsService;
  /** The streaming server behind Exec, Attach and PortForward (issue 5). */
  streaming: StreamingService;
  stop(): Promise<void>;
}

export async function startServices(deps: CriDeps): Promise<Services> {
  const images = await startImages(deps);
  const events = new ContainerEventHub(deps.logger);
  const runtime: RuntimeState = { sandboxes: new SandboxStore(), images: imageProvider(images), events };
  await recoverSandboxes(deps, runtime);
  // --- containers (issue 4): recovered after the pods, before exits are watched, so the
  // reconcile after subscribing covers every exit that happened meanwhile.
  const containerService = new ContainerService(deps, runtime);
  await containerService.recover();
  // --- crash leftovers (issue 10): orphaned shims are stopped while crib already serves ---
  // Again every 15 s: a shim whose start containerd was still finishing when crib restarted
  // only becomes an orphan (bundle deleted) after the first sweep.
  let shimSweep = sweepOrphanShims(deps).catch((e) => deps.logger.warn("orphaned shim sweep failed", { error: messageOf(e) }));
  const shimSweeps = setInterval(() => {
    shimSweep = shimSweep.then(() => sweepOrphanShims(deps)).catch((e) => deps.logger.warn("orphaned shim sweep failed", { error: messageOf(e) }));
  }, SHIM_SWEEP_INTERVAL_MS);
  shimSweeps.unref();
  events.attach(eventStatusSource(runtime, containerService.ctx.containers));
  const stats = await StatsService.start(deps, runtime, containerService.ctx.containers, images.fsUsage.mountpoint);
  const exits = new TaskExitMonitor(
    deps.containerd,
    {
      onExit: (e) => {
        if (!handleSandboxExit(deps, runtime, e)) containerService.handleContainerExit(e);
      },
      onOOM: (id) => {
        containerService.handleContainerOOM(id);
      },
      reconcile: async () => {
        await reconcileSandboxes(deps, runtime);
        await containerService.reconcileContainers();
      },
    },
    deps.logger,
  );
  await exits.start();
  let metrics: RunningMetrics | undefined;
  let streaming: StreamingService | undefined;
  const stop = async () => {
    events.close();
    // --- streaming (issue 5): sessions dropped (exec processes killed) while containerd is still used ---
    await streaming?.stop();
    await metrics?.stop();
    await exits.stop();
    await containerService.stop();
    images.fsUsage.stop();
    clearInterval(shimSweeps);
    await shimSweep;
  };
  // --- metrics endpoint (issue 6): off unless metrics_address is set ---
  try {
    metrics = await startMetrics(deps, metricSources(runtime.sandboxes, containerService.ctx.containers, images.puller));
    // --- streaming server (issue 5) ---
    streaming = await StreamingService.start(deps, containerService.ctx, runtime.sandboxes);
  } catch (e) {
    await stop();
    throw e;
  }
  return { images, runtime, containerService, metrics, events, stats, streaming, stop };
}

export function runtimeHandlers(deps: CriDeps, s: Services): Partial<RuntimeHandlers> {
  const hooks = s.containerService;
  const handlers: Partial<RuntimeHandlers> = {
    version: version(deps),
    status: status(deps),
    runtimeConfig: runtimeConfig(deps),
    runPodSandbox: runPodSandbox(deps, s.runtime),
    stopPodSandbox: stopPodSandbox(deps, s.runtime, (id) => hooks.stopContainers(id)),
    removePodSandbox: removePodSandbox(deps, s.runtime, {
      stopContainers: (id) => hooks.stopContainers(id),
      removeContainers: (id) => hooks.removeContainers(id),
    }),
    podSandboxStatus: podSandboxStatus(deps, s.runtime),
    listPodSandbox: listPodSandbox(deps, s.runtime),
    // --- containers (issue 4) ---
    ...s.containerService.handlers(),
    // --- events (issue 6) ---
    getContainerEvents: getContainerEvents(s.events),
    // --- stats, runtime config, checkpoint (issue 6) ---
    ...s.stats.handlers(),
    updateRuntimeConfig: updateRuntimeConfig(deps),
    checkpointContainer: checkpointContainer(s.containerService.ctx),
    // --- streaming (issue 5) ---
    ...s.streaming.handlers(),
  };
  // --- cri-api v0.36: Stream* (the List RPCs in chunks) and UpdatePodSandboxResources ---
  return { ...handlers, ...runtimeStreamHandlers(handlers), updatePodSandboxResources: updatePodSandboxResources(deps, s.runtime) };
}

export function imageHandlers(deps: CriDeps, s: Services): Partial<ImageHandlers> {
  const handlers: Partial<ImageHandlers> = {
    listImages: listImages(s.images),
    imageStatus: imageStatus(s.images),
    pullImage: pullImage(deps.config, s.images),
    removeImage: removeImage(deps.containerd, s.images),
    imageFsInfo: imageFsInfo(s.images),
  };
  return { ...handlers, ...imageStreamHandlers(handlers) };
}
