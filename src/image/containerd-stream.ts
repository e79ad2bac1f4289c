// Streams on containerd's Streaming service, the side channel the Transfer service uses for
// progress events and registry auth callbacks. The client opens a Stream call, sends a
// StreamInit naming the stream, waits for containerd's ack (an Empty), and then refers to
// that name in the TransferRequest; containerd looks the stream up by (namespace, name).
import { randomBytes } from "node:crypto";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { StreamInitSchema } from "../gen/github.com/containerd/containerd/api/services/streaming/v1/streaming_pb.js";
import type { Containerd } from "../containerd/client.js";
import { wrap } from "../errors.js";

/**
 * A proto message packed as containerd's typeurl does it: the type URL is the message's
 * full name with no "type.googleapis.com/" prefix, and containerd's transfer plugin
 * registry matches it exactly.
 */
export function packAny<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Any {
  return create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, init)) });
}

/** The message inside an Any when its URL names `schema` (with or without a URL prefix). */
export function unpackAny<D extends DescMessage>(any: Any, schema: D): MessageShape<D> | undefined {
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  return name === schema.typeName ? fromBinary(schema, any.value) : undefined;
}

/** Stream names as containerd's Go client makes them: "<purpose>-<random>". */
export function streamId(purpose: string): string {
  return `${purpose}-${randomBytes(8).toString("hex")}`;
}

export interface ContainerdStream {
  readonly id: string;
  send(msg: Any): void;
  /** Messages containerd sends after the ack; ends when containerd closes the stream. */
  messages(): AsyncIterator<Any>;
  /** Ends the call; containerd forgets the stream. Safe to call twice. */
  close(): void;
}

export async function openStream(cd: Containerd, purpose: string): Promise<ContainerdStream> {
  const id = streamId(purpose);
  // No deadline: the stream lives as long as the transfer it serves; close() ends it.
  const call = cd.streaming.stream({ timeoutMs: 0 });
  const it = call[Symbol.asyncIterator]();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    call.cancel();
  };
  try {
    call.write(packAny(StreamInitSchema, { id }));
    const ack = await it.next();
    if (ack.done) throw new Error("containerd closed the stream before acknowledging it");
  } catch (e) {
    close();
    throw wrap(e, `failed to open containerd stream ${id}`);
  }
  return {
    id,
    send: (msg) => {
      if (!closed) call.write(msg);
    },
    messages: () => it,
    close,
  };
}
