// The streaming side of crib as the server wires it: the streaming server started with crib
// (and stopped with it), the sessions behind its URLs, and the Exec, Attach and PortForward
// RPCs that hand the URLs out.
import { join } from "node:path";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import type { ContainerContext } from "../container/container-context.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import { exec } from "./streaming-exec.js";
import { attach } from "./streaming-attach.js";
import { portForward, readyPodNetwork } from "./streaming-port-forward.js";
import { StreamingServer } from "./server.js";
import { serveExec } from "./exec-session.js";
import { serveAttach } from "./attach-session.js";
import { streamingTlsKeyPair } from "./tls-cert.js";
import { ExecFifoPool } from "./exec-fifo-pool.js";
import { traced } from "../trace/recorder.js";

export class StreamingService {
  private constructor(
    readonly server: StreamingServer,
    private readonly fifos: ExecFifoPool,
    private readonly containers: ContainerContext,
    private readonly sandboxes: SandboxStore,
  ) {}

  static async start(deps: CriDeps, containers: ContainerContext, sandboxes: SandboxStore): Promise<StreamingService> {
    const { config, logger } = deps;
    const fifos = new ExecFifoPool(join(config.stateDir, "exec-fifos"));
    await fifos.start();
    try {
      const server = await StreamingService.listen(deps, fifos, containers, sandboxes);
      logger.info("streaming server", { url: server.baseUrl });
      return new StreamingService(server, fifos, containers, sandboxes);
    } catch (e) {
      await fifos.stop();
      throw e;
    }
  }

  private static async listen(deps: CriDeps, fifos: ExecFifoPool, containers: ContainerContext, sandboxes: SandboxStore): Promise<StreamingServer> {
    const { config, logger } = deps;
    const tls = config.enableTlsStreaming ? await streamingTlsKeyPair(config.tlsCertFile, config.tlsKeyFile, config.streamServerAddress) : undefined;
    return StreamingServer.start({
      address: config.streamServerAddress,
      port: config.streamServerPort,
      tls,
      idleTimeoutMs: config.streamIdleTimeoutMs,
      logger,
      runtime: {
        exec: (req, io) => traced(deps.containerd.recorder, "(exec session)", { containerId: req.containerId }, () => serveExec(containers, fifos, req, io)),
        attach: (req, io) => traced(deps.containerd.recorder, "(attach session)", { containerId: req.containerId }, () => serveAttach(containers, req, io)),
        podNetwork: (id) => readyPodNetwork(sandboxes, id),
      },
    });
  }

  handlers(): Pick<RuntimeHandlers, "exec" | "attach" | "portForward"> {
    return {
      exec: exec(this.containers, this.server),
      attach: attach(this.containers, this.server),
      portForward: portForward(this.sandboxes, this.server),
    };
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.fifos.stop();
  }
}
