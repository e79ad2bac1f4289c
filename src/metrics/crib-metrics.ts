// crib's own metrics in a registry of their own (never prom-client's global one: tests and
// benches run several cribs in one process). RPC and containerd-call metrics are fed by
// the instrumented wrapper and the containerd client's call hook; pulls, pods and
// containers are read from their owners when Prometheus scrapes.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the scrape reads from the rest of crib. */
export interface MetricSources {
  /** State of every pod sandbox ("ready", "notready", "unknown"). */
  podStates(): Iterable<string>;
  /** State of every container ("created", "running", "exited", "unknown"). */
  containerStates(): Iterable<string>;
  /** Image transfers under way now (callers sharing one pull count once). */
  pullsInFlight(): number;
  /** Bytes fetched from registries by finished pulls since start. */
  bytesPulled(): number;
}

export const POD_STATES = ["ready", "notready", "unknown"] as const;
export const CONTAINER_STATES = ["created", "running", "exited", "unknown"] as const;

/** CRI calls range from sub-millisecond reads to image pulls of minutes. */
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const CONTAINERD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];

function countBy(states: Iterable<string>, known: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(known.map((s) => [s, 0]));
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  return counts;
}

export class CribMetrics {
  readonly registry = new Registry();
  private readonly rpcRequests: Counter<"method">;
  private readonly rpcErrors: Counter<"method" | "code">;
  private readonly rpcDuration: Histogram<"method">;
  private readonly containerdDuration: Histogram<"method" | "code">;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.rpcRequests = new Counter({
      name: "crib_cri_requests_total",
      help: "CRI requests served, by RPC.",
      labelNames: ["method"],
      registers,
    });
    this.rpcErrors = new Counter({
      name: "crib_cri_request_errors_total",
      help: "CRI requests that failed, by RPC and gRPC status code.",
      labelNames: ["method", "code"],
      registers,
    });
    this.rpcDuration = new Histogram({
      name: "crib_cri_request_duration_seconds",
      help: "Time to answer a CRI request (a stream: until it ends), by RPC.",
      labelNames: ["method"],
      buckets: RPC_BUCKETS,
      registers,
    });
    this.containerdDuration = new Histogram({
      name: "crib_containerd_request_duration_seconds",
      help: "Latency of crib's calls to containerd, by method (service/Method) and gRPC status code.",
      labelNames: ["method", "code"],
      buckets: CONTAINERD_BUCKETS,
      registers,
    });
    new Gauge({
      name: "crib_image_pulls_in_flight",
      help: "Image pulls (transfers from a registry) under way.",
      registers,
      collect() {
        this.set(sources.pullsInFlight());
      },
    });
    new Counter({
      name: "crib_image_pulled_bytes_total",
      help: "Bytes fetched from registries by completed image pulls.",
      registers,
      collect() {
        this.reset();
        this.inc(sources.bytesPulled());
      },
    });
    new Gauge({
      name: "crib_pod_sandboxes",
      help: "Pod sandboxes known to crib, by state.",
      labelNames: ["state"],
      registers,
      collect() {
        for (const [state, n] of countBy(sources.podStates(), POD_STATES)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "crib_containers",
      help: "Containers known to crib, by state.",
      labelNames: ["state"],
      registers,
      collect() {
        for (const [state, n] of countBy(sources.containerStates(), CONTAINER_STATES)) this.set({ state }, n);
      },
    });
  }

  /** One CRI request ended; code is the gRPC status name ("OK", "NOT_FOUND", ...). */
  observeRpc(method: string, code: string, seconds: number): void {
    this.rpcRequests.inc({ method });
    if (code !== "OK") this.rpcErrors.inc({ method, code });
    this.rpcDuration.observe({ method }, seconds);
  }

  /** One containerd call ended ("tasks.v1.Tasks/Create"). */
  observeContainerdCall(method: string, code: string, seconds: number): void {
    this.containerdDuration.observe({ method, code }, seconds);
  }

  /** The Prometheus text exposition. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
