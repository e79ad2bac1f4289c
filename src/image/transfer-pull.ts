// One pull through containerd's Transfer service (containerd 1.7+): an OCIRegistry source
// into an ImageStore destination that unpacks for one platform and snapshotter. Progress
// comes back on a Streaming-service stream and registry credentials are answered on
// another; the pull is cancelled when it makes no progress for the configured timeout.
// containerd takes a lease for the pull itself and deletes it when the call ends, on
// success, failure and cancellation alike.
import { OCIRegistrySchema, AuthRequestSchema, AuthResponseSchema } from "../gen/github.com/containerd/containerd/api/types/transfer/registry_pb.js";
import { ImageStoreSchema } from "../gen/github.com/containerd/containerd/api/types/transfer/imagestore_pb.js";
import { ProgressSchema } from "../gen/github.com/containerd/containerd/api/types/transfer/progress_pb.js";
import type { Containerd } from "../containerd/client.js";
import type { Logger } from "../log.js";
import { openStream, type ContainerdStream } from "./containerd-stream.js";
import { protoAny, unpackAny } from "../containerd/any.js";
import { authAnswer, type RegistryCredentials } from "./registry-auth.js";
import { PullProgress, type ProgressSnapshot } from "./pull-progress.js";
import { pullFailure, watchPull, type PullWatch } from "./pull-watchdog.js";
import type { Platform } from "./platform.js";
import type { Descriptor, PullHints } from "./image-info.js";
import { descriptorFromProto } from "./image-records.js";
import { PulledDescriptors } from "./pull-descriptors.js";

export interface TransferPullRequest {
  /** Normalised reference; also the name the image is stored under. */
  ref: string;
  /** containerd certs.d dir (registry.config_path); containerd's own config_path is not used by Transfer. */
  hostDir: string;
  headers: Record<string, string>;
  credentials: RegistryCredentials | undefined;
  labels: Record<string, string>;
  platform: Platform;
  snapshotter: string;
  progressTimeoutMs: number;
  /** Aborts the pull (every caller gave up). */
  signal: AbortSignal;
  logger: Logger;
}

export interface TransferPullResult {
  progress: ProgressSnapshot;
  /** The image's target as the pull stored it under `ref`, when the pull tells (else crib asks Images/Get). */
  target?: Descriptor | undefined;
  /** What the pull saw of the image's blobs, so that reading it back costs fewer round trips. */
  hints?: PullHints;
}

/** How long progress events that arrive after the Transfer call returned are still read. */
const PROGRESS_DRAIN_MS = 2000;

function platformProto(p: Platform) {
  return { os: p.os, architecture: p.architecture, variant: p.variant ?? "" };
}

function serveAuth(stream: ContainerdStream, creds: RegistryCredentials | undefined, logger: Logger, ref: string): Promise<void> {
  return (async () => {
    const it = stream.messages();
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      const req = unpackAny(next.value, AuthRequestSchema);
      if (!req) continue;
      const answer = authAnswer(creds, req.host);
      logger.debug("registry auth callback", { image: ref, host: req.host, authType: answer.authType });
      stream.send(protoAny(AuthResponseSchema, answer));
    }
  })().catch(() => {
    // The stream ends by cancellation once the transfer is over.
  });
}

function readProgress(stream: ContainerdStream, progress: PullProgress, descriptors: PulledDescriptors): Promise<void> {
  return (async () => {
    const it = stream.messages();
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      const p = unpackAny(next.value, ProgressSchema);
      if (!p) continue;
      progress.handle({ event: p.event, name: p.name, progress: Number(p.progress), total: Number(p.total), hasDescriptor: p.desc !== undefined });
      descriptors.handle({ event: p.event, parents: p.parents, desc: descriptorFromProto(p.desc) });
    }
  })().catch(() => {});
}


export async function transferPull(cd: Containerd, req: TransferPullRequest): Promise<TransferPullResult> {
  const started = Date.now();
  const progress = new PullProgress(req.progressTimeoutMs, started);
  const descriptors = new PulledDescriptors(req.ref);
  const abort = new AbortController();
  const onCallerAbort = () => abort.abort();
  req.signal.addEventListener("abort", onCallerAbort, { once: true });

  const streams: ContainerdStream[] = [];
  const tasks: Promise<void>[] = [];
  let watch: PullWatch | undefined;
  try {
    // Both streams must be registered in containerd before the TransferRequest names them.
    const [progressStream, authStream] = await Promise.all([
      openStream(cd, "progress").then((s) => (streams.push(s), s)),
      req.credentials ? openStream(cd, "creds").then((s) => (streams.push(s), s)) : undefined,
    ]);
    const progressDone = readProgress(progressStream, progress, descriptors);
    const authStreamId = authStream?.id ?? "";
    if (authStream) tasks.push(serveAuth(authStream, req.credentials, req.logger, req.ref));

    watch = watchPull(req.ref, progress, req.progressTimeoutMs, started, abort, req.logger);

    if (req.signal.aborted) abort.abort();
    await cd.transfer.transfer(
      {
        source: protoAny(OCIRegistrySchema, {
          reference: req.ref,
          resolver: { hostDir: req.hostDir, headers: req.headers, authStream: authStreamId },
        }),
        destination: protoAny(ImageStoreSchema, {
          name: req.ref,
          labels: req.labels,
          platforms: [platformProto(req.platform)],
          unpacks: [{ platform: platformProto(req.platform), snapshotter: req.snapshotter }],
        }),
        options: { progressStream: progressStream.id },
      },
      // No deadline: a pull takes as long as it makes progress; the ticker cancels it otherwise.
      { timeoutMs: 0, signal: abort.signal },
    );
    // containerd closes the progress stream as Transfer returns; read what is still in flight.
    await Promise.race([progressDone, new Promise((r) => setTimeout(r, PROGRESS_DRAIN_MS).unref())]);
    return { progress: progress.snapshot(), target: descriptors.target(), hints: { descriptors: descriptors.descriptors() } };
  } catch (e) {
    throw pullFailure(req.ref, watch, req.signal, e);
  } finally {
    watch?.stop();
    req.signal.removeEventListener("abort", onCallerAbort);
    for (const s of streams) s.close();
    await Promise.allSettled(tasks);
  }
}
