// The Stream* list RPCs (cri-api v0.36, KEP-5825 CRIListStreaming): the same items as the
// List RPC with the same filter, sent in chunks that each stay under the 16 MiB gRPC
// message limit, so a node whose list no longer fits one message still answers. As in
// containerd's sendInBatchesBySize: chunks of at most 15 MiB (1 MiB headroom) and at most
// 5000 items; an item larger than a chunk goes alone; an empty list sends no message and
// ends the stream at once (the kubelet reads EOF as "no items").
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  ContainerSchema,
  ContainerStatsSchema,
  ImageSchema,
  ListContainersRequestSchema,
  ListContainerStatsRequestSchema,
  ListImagesRequestSchema,
  ListPodSandboxMetricsRequestSchema,
  ListPodSandboxRequestSchema,
  ListPodSandboxStatsRequestSchema,
  PodSandboxMetricsSchema,
  PodSandboxSchema,
  PodSandboxStatsSchema,
} from "../gen/runtime/v1/api_pb.js";
import type { ImageHandlers, RuntimeHandlers } from "../common/deps.js";
import { decodedReply } from "../rpc/proto-service.js";

export const STREAM_CHUNK_MAX_BYTES = 15 << 20;
export const STREAM_CHUNK_MAX_ITEMS = 5000;

/** Bytes an item takes as one element of a repeated message field: tag + length varint + body. */
export function encodedItemSize<D extends DescMessage>(schema: D, item: MessageInitShape<D>): number {
  const n = toBinary(schema, create(schema, item)).length;
  let varint = 1;
  for (let v = n; v >= 0x80; v >>>= 7) varint++;
  return 1 + varint + n;
}

/** Splits items into chunks of at most maxBytes (by `size`) and maxItems; an oversized item is a chunk of its own. */
export function chunkBySize<T>(items: readonly T[], size: (item: T) => number, maxBytes = STREAM_CHUNK_MAX_BYTES, maxItems = STREAM_CHUNK_MAX_ITEMS): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const s = size(item);
    if (current.length > 0 && (bytes + s > maxBytes || current.length >= maxItems)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Sends the chunks one by one, stopping when the client has gone. */
async function sendChunks<D extends DescMessage>(
  schema: D,
  items: readonly MessageInitShape<D>[],
  send: (chunk: MessageInitShape<D>[]) => Promise<void>,
  call: grpc.ServerWritableStream<unknown, unknown>,
): Promise<void> {
  for (const chunk of chunkBySize(items, (i) => encodedItemSize(schema, i))) {
    if (call.cancelled) return;
    await send(chunk);
  }
}

/** Stream handlers for the runtime List RPCs crib serves (one missing List leaves its Stream UNIMPLEMENTED). */
export function runtimeStreamHandlers(h: Partial<RuntimeHandlers>): Partial<RuntimeHandlers> {
  const out: Partial<RuntimeHandlers> = {};
  const { listPodSandbox, listContainers, listContainerStats, listPodSandboxStats, listPodSandboxMetrics } = h;
  if (listPodSandbox) {
    out.streamPodSandboxes = async (req, send, call) => {
      const r = decodedReply(await listPodSandbox(create(ListPodSandboxRequestSchema, { filter: req.filter }), call as never));
      await sendChunks(PodSandboxSchema, r.items ?? [], (podSandboxes) => send({ podSandboxes }), call);
    };
  }
  if (listContainers) {
    out.streamContainers = async (req, send, call) => {
      const r = decodedReply(await listContainers(create(ListContainersRequestSchema, { filter: req.filter }), call as never));
      await sendChunks(ContainerSchema, r.containers ?? [], (containers) => send({ containers }), call);
    };
  }
  if (listContainerStats) {
    out.streamContainerStats = async (req, send, call) => {
      const r = decodedReply(await listContainerStats(create(ListContainerStatsRequestSchema, { filter: req.filter }), call as never));
      await sendChunks(ContainerStatsSchema, r.stats ?? [], (containerStats) => send({ containerStats }), call);
    };
  }
  if (listPodSandboxStats) {
    out.streamPodSandboxStats = async (req, send, call) => {
      const r = decodedReply(await listPodSandboxStats(create(ListPodSandboxStatsRequestSchema, { filter: req.filter }), call as never));
      await sendChunks(PodSandboxStatsSchema, r.stats ?? [], (podSandboxStats) => send({ podSandboxStats }), call);
    };
  }
  if (listPodSandboxMetrics) {
    out.streamPodSandboxMetrics = async (_req, send, call) => {
      const r = decodedReply(await listPodSandboxMetrics(create(ListPodSandboxMetricsRequestSchema, {}), call as never));
      await sendChunks(PodSandboxMetricsSchema, r.podMetrics ?? [], (podSandboxMetrics) => send({ podSandboxMetrics }), call);
    };
  }
  return out;
}

export function imageStreamHandlers(h: Partial<ImageHandlers>): Partial<ImageHandlers> {
  const { listImages } = h;
  if (!listImages) return {};
  return {
    streamImages: async (req, send, call) => {
      const r = decodedReply(await listImages(create(ListImagesRequestSchema, { filter: req.filter }), call as never));
      await sendChunks(ImageSchema, r.images ?? [], (images) => send({ images }), call);
    },
  };
}
