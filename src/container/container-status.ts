// ContainerStatus, answered from the store (containerd's toCRIContainerStatus and, with
// verbose, toCRIContainerInfo: the "info" JSON that tools read the pid from).
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ContainerConfigSchema,
  ContainerState,
  ContainerStatusResponseSchema,
  ContainerStatusSchema,
  ImageSpecSchema,
  Signal,
} from "../gen/runtime/v1/api_pb.js";
import { OptionsSchema as RuncOptionsSchema } from "../gen/github.com/containerd/containerd/api/types/runc/options/oci_pb.js";
import { unpackAny } from "../containerd/any.js";
import { messageToGo } from "../containerd/go-json.js";
import type { Container } from "./container-store.js";
import type { LocalImage, RuntimeHandlers } from "../common/deps.js";
import type { ContainerContext } from "./container-context.js";
import { ociSignalToCri } from "./container-signals.js";
import { stringifyExact } from "../containerd/exact-json.js";
import { EncodedReply } from "../rpc/proto-service.js";
import { WireOut } from "../rpc/wire-out.js";

export const COMPLETED_EXIT_REASON = "Completed";
export const ERROR_EXIT_REASON = "Error";

/** Image tags and digest references (containerd's ParseImageReferences). */
export function splitImageReferences(refs: readonly string[]): { tags: string[]; digests: string[] } {
  const tags: string[] = [];
  const digests: string[] = [];
  for (const r of refs) (r.includes("@") ? digests : tags).push(r);
  return { tags, digests };
}

/** The CRI status of a container; `image` is its image if still present. */
export function criContainerStatus(c: Container, image: LocalImage | undefined): MessageInitShape<typeof ContainerStatusSchema> {
  const { meta, status } = c;
  const config = meta.config;
  const state = c.state;
  let imageSpec = config.image ?? create(ImageSpecSchema, {});
  let imageRef = meta.imageRef;
  if (image) {
    const { tags, digests } = splitImageReferences(image.references);
    if (tags.length > 0) imageSpec = create(ImageSpecSchema, { image: tags[0]! });
    if (digests.length > 0) imageRef = digests[0]!;
  }
  let reason = status.reason;
  if (state === ContainerState.CONTAINER_EXITED && reason === "") reason = status.exitCode === 0 ? COMPLETED_EXIT_REASON : ERROR_EXIT_REASON;
  let startedAt = 0n;
  let finishedAt = 0n;
  if (state === ContainerState.CONTAINER_RUNNING) startedAt = status.startedAt;
  else if (state === ContainerState.CONTAINER_EXITED || state === ContainerState.CONTAINER_UNKNOWN) {
    startedAt = status.startedAt;
    finishedAt = status.finishedAt;
  }
  const user = c.record.spec.process?.user;
  const stopSignal =
    config.stopSignal !== Signal.RUNTIME_DEFAULT ? config.stopSignal : meta.stopSignal ? ociSignalToCri(meta.stopSignal) : Signal.SIGTERM;
  return {
    id: meta.id,
    metadata: config.metadata,
    state,
    createdAt: status.createdAt,
    startedAt,
    finishedAt,
    exitCode: status.exitCode,
    image: imageSpec,
    imageRef,
    imageId: meta.imageRef,
    reason,
    message: status.message,
    labels: config.labels,
    annotations: config.annotations,
    mounts: config.mounts,
    logPath: meta.logPath,
    resources: status.resources,
    user: {
      linux: user
        ? { uid: BigInt(user.uid), gid: BigInt(user.gid), supplementalGroups: (user.additionalGids ?? []).map((g) => BigInt(g)) }
        : {},
    },
    stopSignal,
  };
}

/** The verbose "info" JSON with containerd's keys (ContainerInfo in container_status.go). */
export function containerInfoJson(c: Container): string {
  const options = unpackAny(c.record.runtimeOptions, RuncOptionsSchema);
  return stringifyExact({
    sandboxID: c.meta.sandboxId,
    pid: c.status.pid,
    removing: c.status.removing,
    snapshotKey: c.record.snapshotKey,
    snapshotter: c.record.snapshotter,
    runtimeType: c.record.runtimeType,
    runtimeOptions: options ? messageToGo(RuncOptionsSchema, options as unknown as Record<string, unknown>) : null,
    config: messageToGo(ContainerConfigSchema, c.meta.config as unknown as Record<string, unknown>),
    runtimeSpec: c.record.spec,
  });
}

/**
 * A container's status as field 1 on the wire (tag, length, message), kept until the
 * container's status or its image changes (the store replaces either object then): the
 * kubelet asks every container's status on each relist.
 */
const encodedStatuses = new WeakMap<Container, { status: object; image: LocalImage | undefined; data: Buffer }>();

/** The non-verbose ContainerStatus reply: `{ status }` on the wire. */
export function containerStatusReply(c: Container, image: LocalImage | undefined): EncodedReply<typeof ContainerStatusResponseSchema> {
  const status = c.status;
  let hit = encodedStatuses.get(c);
  if (!hit || hit.status !== status || hit.image !== image) {
    const data = new WireOut(512).bytes(1, toBinary(ContainerStatusSchema, create(ContainerStatusSchema, criContainerStatus(c, image)))).finish();
    encodedStatuses.set(c, (hit = { status, image, data }));
  }
  return new EncodedReply(ContainerStatusResponseSchema, hit.data);
}

export function containerStatus(ctx: ContainerContext): RuntimeHandlers["containerStatus"] {
  return async (req) => {
    const c = ctx.containers.get(req.containerId);
    const image = ctx.state.images.resolve(c.meta.imageRef);
    if (!req.verbose) return containerStatusReply(c, image);
    const status = criContainerStatus(c, image);
    return { status, info: { info: containerInfoJson(c) } };
  };
}
