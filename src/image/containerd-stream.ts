// Streams on containerd's Streaming service, the side channel the Transfer service uses for
// progress events and registry auth callbacks. The client opens a Stream call, sends a
// StreamInit naming the stream, waits for containerd's ack (an Empty), and then refers to
// that name in the TransferRequest; containerd looks the stream up by (namespace, name).
import { randomBytes } from "node:crypto";
import type { Any } from "@bufbuild/protobuf/wkt";
import { protoAny } from "../containerd/any.js";
import { StreamInitSchema } from "../gen/github.com/containerd/containerd/api/services/streaming/v1/streaming_pb.js";
import type { Containerd } from "../containerd/client.js";
import { wrap } from "../errors.js";

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
    call.write(protoAny(StreamInitSchema, { id }));
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
