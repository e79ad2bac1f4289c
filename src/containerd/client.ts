// One typed client per containerd service over containerd.sock. Every call carries the
// namespace as `containerd-namespace` metadata and a deadline, and is recorded in the
// trace of the CRI RPC being served. grpc-js reconnects by itself when containerd restarts.
import * as grpc from "@grpc/grpc-js";
import { createServiceClient, type CallOpts, type ServiceClient } from "../rpc/proto-service.js";
import { currentTrace, recordCall, type CallRecorder, type TracedCall } from "./trace.js";
import { Containers } from "../gen/github.com/containerd/containerd/api/services/containers/v1/containers_pb.js";
import { Content } from "../gen/github.com/containerd/containerd/api/services/content/v1/content_pb.js";
import { Diff } from "../gen/github.com/containerd/containerd/api/services/diff/v1/diff_pb.js";
import { Events } from "../gen/github.com/containerd/containerd/api/services/events/v1/events_pb.js";
import { Images } from "../gen/github.com/containerd/containerd/api/services/images/v1/images_pb.js";
import { Introspection } from "../gen/github.com/containerd/containerd/api/services/introspection/v1/introspection_pb.js";
import { Leases } from "../gen/github.com/containerd/containerd/api/services/leases/v1/leases_pb.js";
import { Namespaces } from "../gen/github.com/containerd/containerd/api/services/namespaces/v1/namespace_pb.js";
import { Controller, Store } from "../gen/github.com/containerd/containerd/api/services/sandbox/v1/sandbox_pb.js";
import { Snapshots } from "../gen/github.com/containerd/containerd/api/services/snapshots/v1/snapshots_pb.js";
import { Streaming } from "../gen/github.com/containerd/containerd/api/services/streaming/v1/streaming_pb.js";
import { Tasks } from "../gen/github.com/containerd/containerd/api/services/tasks/v1/tasks_pb.js";
import { Transfer } from "../gen/github.com/containerd/containerd/api/services/transfer/v1/transfer_pb.js";
import { Version } from "../gen/github.com/containerd/containerd/api/services/version/v1/version_pb.js";

export interface ContainerdOptions {
  /** Path of containerd's unix socket. */
  address: string;
  namespace: string;
  /** Deadline of a call that does not set its own. */
  defaultTimeoutMs?: number;
  /** The --trace-file recorder; when set, every call also records its key request fields and start. */
  recorder?: CallRecorder;
}

/** Request fields worth naming in a trace line: they identify what the call touched. */
const ID_FIELDS = ["id", "containerId", "execId", "key", "parent", "name", "snapshotter", "digest", "ref", "sandboxId", "leaseId"];
const NESTED = ["container", "image", "lease", "sandbox", "source", "destination"];

function idsOf(req: unknown): Record<string, string> {
  const ids: Record<string, string> = {};
  const pick = (obj: unknown, prefix: string) => {
    if (typeof obj !== "object" || obj === null) return;
    const rec = obj as Record<string, unknown>;
    for (const f of ID_FIELDS) {
      const v = rec[f];
      if (typeof v === "string" && v !== "") ids[prefix + f] = v;
    }
  };
  pick(req, "");
  if (typeof req === "object" && req !== null) {
    for (const n of NESTED) pick((req as Record<string, unknown>)[n], `${n}.`);
  }
  return ids;
}

export class Containerd {
  readonly containers: ServiceClient<typeof Containers.method>;
  readonly content: ServiceClient<typeof Content.method>;
  readonly diff: ServiceClient<typeof Diff.method>;
  readonly events: ServiceClient<typeof Events.method>;
  readonly images: ServiceClient<typeof Images.method>;
  readonly introspection: ServiceClient<typeof Introspection.method>;
  readonly leases: ServiceClient<typeof Leases.method>;
  readonly namespaces: ServiceClient<typeof Namespaces.method>;
  readonly sandboxStore: ServiceClient<typeof Store.method>;
  readonly sandboxController: ServiceClient<typeof Controller.method>;
  readonly snapshots: ServiceClient<typeof Snapshots.method>;
  readonly streaming: ServiceClient<typeof Streaming.method>;
  readonly tasks: ServiceClient<typeof Tasks.method>;
  readonly transfer: ServiceClient<typeof Transfer.method>;
  readonly version: ServiceClient<typeof Version.method>;

  readonly namespace: string;
  readonly address: string;
  /** Called once per containerd call with its outcome (the metrics endpoint's per-method latencies). */
  onCall: ((method: string, code: string, seconds: number) => void) | undefined;
  readonly recorder: CallRecorder | undefined;
  private readonly client: grpc.Client;
  /**
   * Counts calls that failed UNAVAILABLE (containerd went away; the event subscription
   * always sees it): what was learnt from containerd before may be stale after one.
   */
  lostConnections = 0;

  constructor(opts: ContainerdOptions) {
    this.namespace = opts.namespace;
    this.address = opts.address;
    this.client = new grpc.Client(`unix://${opts.address}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 16 << 20,
      "grpc.max_send_message_length": 16 << 20,
      // containerd restarts must not leave us in a long backoff.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 2000,
      // The authority ":authority: localhost" is what containerd's Go client sends.
      "grpc.default_authority": "localhost",
      // Nobody reads channelz; without it grpc-js skips its per-call counters.
      "grpc.enable_channelz": 0,
    });
    const namespace = opts.namespace;
    const recording = opts.recorder !== undefined;
    this.recorder = opts.recorder;
    const hooks = {
      defaultTimeoutMs: opts.defaultTimeoutMs ?? 30_000,
      metadata: (callOpts?: CallOpts) => {
        if (recording) opts.recorder?.callStarted(currentTrace()?.calls);
        const md = new grpc.Metadata();
        md.set("containerd-namespace", namespace);
        if (callOpts?.lease) md.set("containerd-lease", callOpts.lease);
        return md;
      },
      observe: (path: string, req: unknown, started: bigint, err: grpc.ServiceError | null) => {
        const call: TracedCall = {
          method: path.replace(/^\/containerd\.services\./, "").replace(/^\//, ""),
          ids: idsOf(req),
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          code: err ? (grpc.status[err.code] ?? String(err.code)) : "OK",
        };
        if (recording) Object.assign(call, { fields: opts.recorder?.requestFields(call.method, req), startedNs: started });
        recordCall(call);
        if (recording) opts.recorder?.callEnded(currentTrace()?.calls);
        if (err?.code === grpc.status.UNAVAILABLE) this.lostConnections++;
        this.onCall?.(call.method, call.code, call.ms / 1000);
      },
    };
    const mk = <S extends Parameters<typeof createServiceClient>[0]>(s: S) => createServiceClient(s, this.client, hooks);
    this.containers = mk(Containers) as ServiceClient<typeof Containers.method>;
    this.content = mk(Content) as ServiceClient<typeof Content.method>;
    this.diff = mk(Diff) as ServiceClient<typeof Diff.method>;
    this.events = mk(Events) as ServiceClient<typeof Events.method>;
    this.images = mk(Images) as ServiceClient<typeof Images.method>;
    this.introspection = mk(Introspection) as ServiceClient<typeof Introspection.method>;
    this.leases = mk(Leases) as ServiceClient<typeof Leases.method>;
    this.namespaces = mk(Namespaces) as ServiceClient<typeof Namespaces.method>;
    this.sandboxStore = mk(Store) as ServiceClient<typeof Store.method>;
    this.sandboxController = mk(Controller) as ServiceClient<typeof Controller.method>;
    this.snapshots = mk(Snapshots) as ServiceClient<typeof Snapshots.method>;
    this.streaming = mk(Streaming) as ServiceClient<typeof Streaming.method>;
    this.tasks = mk(Tasks) as ServiceClient<typeof Tasks.method>;
    this.transfer = mk(Transfer) as ServiceClient<typeof Transfer.method>;
    this.version = mk(Version) as ServiceClient<typeof Version.method>;
  }

  /** Whether the connection to containerd is up now (no call made: answers from memory). */
  connected(): boolean {
    return this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
  }

  /** Waits until the socket accepts a connection (containerd is up). */
  waitReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.client.close();
  }
}
