// Builds crib: connects to containerd, checks it, assembles the handlers behind the
// instrumented wrapper and serves the CRI on a unix socket.
import * as grpc from "@grpc/grpc-js";
import { readFile } from "node:fs/promises";
import { ImageService, RuntimeService } from "../gen/runtime/v1/api_pb.js";
import { grpcServiceDefinition } from "../rpc/proto-service.js";
import { Containerd } from "../containerd/client.js";
import { detectCapabilities } from "../containerd/capabilities.js";
import { introspectHandlerFeatures } from "../common/handler-features.js";
import { failedPrecondition, unavailable, wrap } from "../errors.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { CriDeps, ImageHandlers, RuntimeHandlers } from "../common/deps.js";
import { instrumentService } from "./instrument.js";
import { prepareSocketPath, restrictSocket } from "./socket.js";
import { refuseUnadoptablePods } from "../migrate/adoption-guard.js";
import { lockInstance } from "./instance-lock.js";
import { imageHandlers, runtimeHandlers, startServices, type Services } from "./handlers.js";
import { TraceRecorder } from "../trace/recorder.js";
import { version } from "../runtime/runtime-version.js";

export interface Crib {
  deps: CriDeps;
  /** Stops serving, then releases containerd. */
  stop(): Promise<void>;
}

async function connectContainerd(config: Config, logger: Logger, recorder: TraceRecorder | undefined): Promise<Containerd> {
  const cd = new Containerd({ address: config.containerdAddress, namespace: config.namespace, defaultTimeoutMs: config.containerdTimeoutMs, recorder });
  try {
    await cd.waitReady(10_000);
  } catch (e) {
    cd.close();
    throw unavailable(`containerd is not reachable at ${config.containerdAddress}: ${(e as Error).message}`);
  }
  logger.debug("connected to containerd", { address: config.containerdAddress, namespace: config.namespace });
  return cd;
}

export async function startCrib(config: Config, logger: Logger): Promise<Crib> {
  // First of all: a second crib on the same dirs or socket stops here, having touched nothing.
  const lock = await lockInstance(config);
  const recorder = config.traceFile ? new TraceRecorder(config.traceFile) : undefined;
  /** Start-up work outside any RPC, recorded as a pseudo-RPC line when tracing. */
  const traced = <T>(name: string, fn: () => Promise<T>) => (recorder ? recorder.background(name, {}, fn) : fn());
  const containerd = await connectContainerd(config, logger, recorder).catch(async (e: unknown) => {
    await recorder?.close();
    await lock.release();
    throw e;
  });
  let ready = false;
  let services: Services | undefined;
  let server: grpc.Server | undefined;
  try {
    const capabilities = await traced("(start-up check)", () => detectCapabilities(containerd)).catch((e) => {
      throw wrap(e, "failed to detect containerd capabilities");
    });
    if (capabilities.criPluginLoaded && !config.allowContainerdCri) {
      throw failedPrecondition(
        `containerd's own CRI plugin is loaded on ${config.containerdAddress}: two CRI servers on namespace ${config.namespace} corrupt each other's state; disable it (disabled_plugins) or pass --allow-containerd-cri`,
      );
    }
    logger.info("containerd", { version: capabilities.version, transfer: capabilities.transfer, sandboxStore: capabilities.sandboxStore });
    if (!config.adoptPartial) await refuseUnadoptablePods(config, containerd);
    const ownOOMScoreAdj = Number((await readFile("/proc/self/oom_score_adj", "utf8")).trim());
    const handlerFeatures = await introspectHandlerFeatures(containerd, config, logger);
    const deps: CriDeps = { config, containerd, capabilities, logger, ownOOMScoreAdj, handlerFeatures };

    // The socket answers while the stores are recovered (seconds with hundreds of
    // containers): Version at once, every other RPC once start-up is done (it waits; the
    // tables are filled then). containerd's CRI refuses calls until it has recovered.
    const runtimeTable: Partial<RuntimeHandlers> = { version: version(deps) };
    const imageTable: Partial<ImageHandlers> = {};
    let started!: () => void;
    let failed!: (e: unknown) => void;
    const whenReady = new Promise<void>((resolve, reject) => ((started = resolve), (failed = reject)));
    whenReady.catch(() => undefined);
    server = new grpc.Server({
      "grpc.max_receive_message_length": 16 << 20,
      "grpc.max_send_message_length": 16 << 20,
      // Nobody reads channelz; without it grpc-js skips its per-call and per-message counters.
      "grpc.enable_channelz": 0,
    });
    const observe = (method: string, code: string, seconds: number) => services?.metrics?.observeRpc(method, code, seconds);
    const opts = { logger, isReady: () => ready, whenReady, observe, recorder };
    server.addService(grpcServiceDefinition(RuntimeService), instrumentService(RuntimeService, runtimeTable, opts));
    server.addService(grpcServiceDefinition(ImageService), instrumentService(ImageService, imageTable, opts));

    await prepareSocketPath(config.listen);
    const srv = server;
    await new Promise<void>((resolve, reject) =>
      srv.bindAsync(`unix://${config.listen}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    await restrictSocket(config.listen);
    logger.info("listening, recovering state", { listen: config.listen });

    services = await traced("(start-up)", () => startServices(deps)).catch((e: unknown) => {
      failed(e);
      throw e;
    });
    Object.assign(runtimeTable, runtimeHandlers(deps, services));
    Object.assign(imageTable, imageHandlers(deps, services));
    ready = true;
    started();
    logger.info("serving CRI", { listen: config.listen });

    const running = server;
    const svc = services;
    return {
      deps,
      async stop() {
        ready = false;
        // Event streams never end by themselves; ended here, they do not hold up the shutdown.
        svc.events.close();
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            running.forceShutdown();
            resolve();
          }, 5000);
          running.tryShutdown(() => {
            clearTimeout(t);
            resolve();
          });
        });
        await svc.stop();
        containerd.close();
        await recorder?.close();
        await lock.release();
      },
    };
  } catch (e) {
    server?.forceShutdown();
    await services?.stop();
    containerd.close();
    await recorder?.close();
    await lock.release();
    throw e;
  }
}
