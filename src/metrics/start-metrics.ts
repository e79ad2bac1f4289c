// Turns the metrics endpoint on when metrics_address is set: the registry, the containerd
// call hook and the HTTP listener. The instrumented wrapper feeds observeRpc.
import type { CriDeps } from "../common/deps.js";
import { CribMetrics, type MetricSources } from "./crib-metrics.js";
import { startMetricsServer } from "./metrics-server.js";

export interface RunningMetrics {
  metrics: CribMetrics;
  /** The bound address. */
  address: string;
  /** For InstrumentOptions.observe. */
  observeRpc: (method: string, code: string, seconds: number) => void;
  stop(): Promise<void>;
}

export async function startMetrics(deps: CriDeps, sources: MetricSources): Promise<RunningMetrics | undefined> {
  if (!deps.config.metricsAddress) return undefined;
  const metrics = new CribMetrics(sources);
  const server = await startMetricsServer(deps.config.metricsAddress, metrics, deps.logger);
  deps.containerd.onCall = (method, code, seconds) => metrics.observeContainerdCall(method, code, seconds);
  return {
    metrics,
    address: server.address,
    observeRpc: (method, code, seconds) => metrics.observeRpc(method, code, seconds),
    async stop() {
      deps.containerd.onCall = undefined;
      await server.close();
    },
  };
}
