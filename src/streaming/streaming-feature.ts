// The streaming feature as the composition root builds it: the streaming server started
// with crib (and stopped with it), the sessions behind its URLs, and the Exec, Attach and
// PortForward RPCs that hand the URLs out.
import { join } from "node:path";
import type { CriDeps } from "../common/deps.js";
import { nothing, type Feature } from "../common/feature.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import type { StreamingContext } from "./streaming-context.js";
import { exec } from "./streaming-exec.js";
import { attach } from "./streaming-attach.js";
import { portForward, readyPodNetwork } from "./streaming-port-forward.js";
import { StreamingServer } from "./server.js";
import { serveExec } from "./exec-session.js";
import { serveAttach } from "./attach-session.js";
import { streamingTlsKeyPair } from "./tls-cert.js";
import { ExecFifoPool } from "./exec-fifo-pool.js";
import { traced } from "../trace/recorder.js";
import type { ContainerStore } from "../container/container-store.js";

export interface StreamingUses {
  containers: ContainerStore;
  sandboxes: SandboxStore;
}

export async function streamingFeature(deps: CriDeps, uses: StreamingUses): Promise<Feature> {
  const { config, logger } = deps;
  const ctx: StreamingContext = { deps, containers: uses.containers };
  const fifos = new ExecFifoPool(join(config.stateDir, "exec-fifos"));
  await fifos.start();
  let server: StreamingServer;
  try {
    server = await listen(ctx, fifos, uses.sandboxes);
    logger.info("streaming server", { url: server.baseUrl });
  } catch (e) {
    await fifos.stop();
    throw e;
  }
  return {
    runtime: {
      exec: exec(ctx, server),
      attach: attach(ctx, server),
      portForward: portForward(uses.sandboxes, server),
    },
    image: {},
    start: nothing,
    async stop() {
      await server.stop();
      await fifos.stop();
    },
    api: undefined,
  };
}

async function listen(ctx: StreamingContext, fifos: ExecFifoPool, sandboxes: SandboxStore): Promise<StreamingServer> {
  const { deps } = ctx;
  const { config, logger } = deps;
  const tls = config.enableTlsStreaming ? await streamingTlsKeyPair(config.tlsCertFile, config.tlsKeyFile, config.streamServerAddress) : undefined;
  return StreamingServer.start({
    address: config.streamServerAddress,
    port: config.streamServerPort,
    tls,
    idleTimeoutMs: config.streamIdleTimeoutMs,
    logger,
    runtime: {
      exec: (req, io) => traced(deps.containerd.recorder, "(exec session)", { containerId: req.containerId }, () => serveExec(ctx, fifos, req, io)),
      attach: (req, io) => traced(deps.containerd.recorder, "(attach session)", { containerId: req.containerId }, () => serveAttach(ctx, req, io)),
      podNetwork: (id) => readyPodNetwork(sandboxes, id),
    },
  });
}
