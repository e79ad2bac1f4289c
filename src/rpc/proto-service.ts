// Bridges protobuf-es service descriptors (generated from proto/) to grpc-js, so both the
// CRI server and the containerd clients are typed end to end by the generated schemas.
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { timerDelay } from "../timer-limit.js";
import "./text-encoding.js";

export function methodPath(service: DescService, method: DescMethod): string {
  return `/${service.typeName}/${method.name}`;
}

/**
 * A reply already in wire bytes, written by hand on a hot path (src/rpc/wire-out.ts): the
 * server sends the bytes as they are, with no create() and no reflective toBinary.
 */
export class EncodedReply<D extends DescMessage = DescMessage> {
  constructor(
    readonly schema: D,
    readonly bytes: Buffer,
  ) {}
}

/**
 * A reply encoded once and sent again while its key is unchanged: for replies that are the
 * same for nearly every call (Version, Status).
 */
export function replyCache<D extends DescMessage>(schema: D): (key: string, build: () => MessageInitShape<D>) => EncodedReply<D> {
  let last: { key: string; reply: EncodedReply<D> } | undefined;
  return (key, build) => {
    if (last?.key !== key) last = { key, reply: new EncodedReply(schema, Buffer.from(toBinary(schema, create(schema, build())))) };
    return last.reply;
  };
}

/** A handler's reply as a message (decoded back when it was encoded by hand), for code that reads it. */
export function decodedReply<D extends DescMessage>(reply: MessageInitShape<D> | EncodedReply<D>): MessageInitShape<D> {
  return reply instanceof EncodedReply ? (fromBinary(reply.schema, reply.bytes) as MessageInitShape<D>) : reply;
}

function serializer<D extends DescMessage>(schema: D) {
  return (value: MessageShape<D> | EncodedReply<D>): Buffer => (value instanceof EncodedReply ? value.bytes : Buffer.from(toBinary(schema, value)));
}

function deserializer<D extends DescMessage>(schema: D) {
  return (bytes: Buffer): MessageShape<D> => fromBinary(schema, bytes);
}

/** grpc-js service definition for a generated service, keyed by the method's local name. */
export function grpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: methodPath(service, m),
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: serializer(m.input) as (v: unknown) => Buffer,
      requestDeserialize: deserializer(m.input),
      responseSerialize: serializer(m.output) as (v: unknown) => Buffer,
      responseDeserialize: deserializer(m.output),
    };
  }
  return def;
}

type In<M> = M extends { input: infer I extends DescMessage } ? I : never;
type Out<M> = M extends { output: infer O extends DescMessage } ? O : never;

/** A unary handler: request message in, response (init shape) out. */
export type UnaryHandler<M> = (req: MessageShape<In<M>>, call: grpc.ServerUnaryCall<MessageShape<In<M>>, unknown>) => Promise<MessageInitShape<Out<M>> | EncodedReply<Out<M>>>;
/** A server-streaming handler writes responses with `send` until it resolves. */
export type StreamHandler<M> = (
  req: MessageShape<In<M>>,
  send: (res: MessageInitShape<Out<M>>) => Promise<void>,
  call: grpc.ServerWritableStream<MessageShape<In<M>>, unknown>,
) => Promise<void>;

export type ServiceHandlers<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]["methodKind"] extends "unary" ? UnaryHandler<S[K]> : S[K]["methodKind"] extends "server_streaming" ? StreamHandler<S[K]> : never;
};

export interface CallOpts {
  /** Milliseconds; each call gets a deadline. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** containerd lease the call's resources are held by (sent as `containerd-lease`). */
  lease?: string;
}

export type UnaryClientMethod<M> = (req: MessageInitShape<In<M>>, opts?: CallOpts) => Promise<MessageShape<Out<M>>>;
export type StreamClientMethod<M> = (req: MessageInitShape<In<M>>, opts?: CallOpts) => AsyncIterable<MessageShape<Out<M>>>;
export interface DuplexClientStream<M> {
  write(msg: MessageInitShape<In<M>>): void;
  end(): void;
  cancel(): void;
  [Symbol.asyncIterator](): AsyncIterator<MessageShape<Out<M>>>;
}
export type DuplexClientMethod<M> = (opts?: CallOpts) => DuplexClientStream<M>;

export type ServiceClient<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]["methodKind"] extends "unary"
    ? UnaryClientMethod<S[K]>
    : S[K]["methodKind"] extends "server_streaming"
      ? StreamClientMethod<S[K]>
      : DuplexClientMethod<S[K]>;
};

/** Hooks a client calls around every RPC; the containerd layer uses them for metadata and tracing. */
export interface ClientInterceptor {
  metadata(opts?: CallOpts): grpc.Metadata;
  defaultTimeoutMs: number;
  /** Called once per call with its outcome. */
  observe(path: string, req: unknown, startedAt: bigint, error: grpc.ServiceError | null): void;
}

export function createServiceClient<S extends GenServiceMethods>(
  service: GenService<S>,
  client: grpc.Client,
  hooks: ClientInterceptor,
): ServiceClient<S> {
  const out: Record<string, unknown> = {};
  const desc = service as unknown as DescService;
  for (const m of desc.methods) {
    const path = methodPath(desc, m);
    const ser = serializer(m.input);
    const de = deserializer(m.output);
    const deadline = (opts?: CallOpts) => {
      const ms = opts?.timeoutMs ?? hooks.defaultTimeoutMs;
      // No deadline for 0, nor for one past Node's timer limit (a configured duration).
      return timerDelay(ms) !== undefined ? { deadline: Date.now() + ms } : {};
    };
    if (m.methodKind === "unary") {
      out[m.localName] = (init: MessageInitShape<DescMessage>, opts?: CallOpts) =>
        new Promise((resolve, reject) => {
          const req = create(m.input, init);
          const started = process.hrtime.bigint();
          const call = client.makeUnaryRequest(path, ser, de, req, hooks.metadata(opts), deadline(opts), (err, res) => {
            opts?.signal?.removeEventListener("abort", onAbort);
            hooks.observe(path, req, started, err ?? null);
            if (err) reject(err);
            else resolve(res);
          });
          const onAbort = () => call.cancel();
          opts?.signal?.addEventListener("abort", onAbort, { once: true });
        });
    } else if (m.methodKind === "server_streaming") {
      out[m.localName] = (init: MessageInitShape<DescMessage>, opts?: CallOpts) => {
        const req = create(m.input, init);
        const started = process.hrtime.bigint();
        const stream = client.makeServerStreamRequest(path, ser, de, req, hooks.metadata(opts), deadline(opts));
        const onAbort = () => stream.cancel();
        opts?.signal?.addEventListener("abort", onAbort, { once: true });
        let observed = false;
        // A stream we end on purpose (the consumer stopped reading) is a success, not CANCELLED.
        let endedByUs = false;
        const observe = (err: grpc.ServiceError | null) => {
          if (observed) return;
          observed = true;
          opts?.signal?.removeEventListener("abort", onAbort);
          hooks.observe(path, req, started, endedByUs ? null : err);
        };
        stream.on("error", (e: grpc.ServiceError) => observe(e));
        stream.on("end", () => observe(null));
        return {
          async *[Symbol.asyncIterator]() {
            try {
              for await (const msg of stream) yield msg;
            } finally {
              endedByUs = !observed;
              stream.cancel();
            }
          },
        };
      };
    } else {
      out[m.localName] = (opts?: CallOpts) => {
        const started = process.hrtime.bigint();
        const stream =
          m.methodKind === "bidi_streaming"
            ? client.makeBidiStreamRequest(path, ser, de, hooks.metadata(opts), deadline(opts))
            : null;
        if (!stream) throw new Error(`client streaming method ${path} is not supported`);
        let endedByUs = false;
        let observed = false;
        const observe = (err: grpc.ServiceError | null) => {
          if (observed) return;
          observed = true;
          hooks.observe(path, {}, started, endedByUs ? null : err);
        };
        stream.on("error", (e: grpc.ServiceError) => observe(e));
        stream.on("end", () => observe(null));
        return {
          write: (init: MessageInitShape<DescMessage>) => stream.write(create(m.input, init)),
          end: () => stream.end(),
          cancel: () => {
            endedByUs = true;
            stream.cancel();
          },
          [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
        };
      };
    }
  }
  return out as ServiceClient<S>;
}
