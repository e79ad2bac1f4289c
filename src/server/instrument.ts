// The instrumented wrapper in front of every CRI RPC: init check, per-RPC logging with the
// containerd calls it made, UNIMPLEMENTED for what is not built, and one error mapping.
import * as grpc from "@grpc/grpc-js";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { runTraced, type TracedCall } from "../containerd/trace.js";
import { EncodedReply } from "../rpc/proto-service.js";
import { Code, codeOf, messageOf, toServiceError, unavailable, unimplemented } from "../errors.js";
import type { Logger } from "../log.js";
import type { TraceRecorder } from "../trace/recorder.js";

/** Reads are logged at debug, mutations at info (containerd's CRI does the same split). */
const READ_RPC = /^(Version|Status|RuntimeConfig|List.*|.*Status|ImageFsInfo|.*Stats|.*Metrics|ListMetricDescriptors|GetContainerEvents)$/;

/** Request fields that identify what an RPC is about, for the log line. */
const ID_FIELDS = ["podSandboxId", "containerId", "execId", "sandboxId"];

function idsOf(req: Record<string, unknown>): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const f of ID_FIELDS) {
    const v = req[f];
    if (typeof v === "string" && v !== "") ids[f] = v;
  }
  const image = req["image"] as { image?: unknown } | undefined;
  if (image && typeof image.image === "string" && image.image) ids["image"] = image.image;
  const config = req["config"] as { metadata?: { name?: unknown } } | undefined;
  if (config?.metadata && typeof config.metadata.name === "string") ids["name"] = config.metadata.name;
  return ids;
}

export interface InstrumentOptions {
  logger: Logger;
  isReady: () => boolean;
  /**
   * Settles when start-up ends (ready, or failed). Given, the server may listen before the
   * handlers table is complete: a call whose handler is already there (Version) is answered
   * at once, any other waits for start-up, then is looked up again (so an RPC crib does not
   * serve still answers UNIMPLEMENTED, after start-up). Without it, calls before ready fail
   * UNAVAILABLE.
   */
  whenReady?: Promise<void>;
  /** Called once per RPC when it ends, with its gRPC status name ("OK" on success): the metrics endpoint's counts and latencies. */
  observe?: (method: string, code: string, seconds: number) => void;
  /** --trace-file: one line per RPC with its containerd calls. */
  recorder?: TraceRecorder | undefined;
}

type AnyUnary = (req: never, call: never) => Promise<unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers are typed where written; here only called.
type AnyStream = (req: never, send: (res: any) => Promise<void>, call: never) => Promise<void>;

export function instrumentService(
  service: DescService,
  handlers: Partial<Record<string, AnyUnary | AnyStream>>,
  opts: InstrumentOptions,
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    impl[method.localName] =
      method.methodKind === "server_streaming" ? streamingImpl(service, method, handlers, opts) : unaryImpl(service, method, handlers, opts);
  }
  return impl;
}

function logOutcome(opts: InstrumentOptions, method: DescMethod, req: unknown, started: bigint, calls: unknown[], err: unknown) {
  const elapsedNs = Number(process.hrtime.bigint() - started);
  opts.recorder?.rpc(method.name, req, started, calls as TracedCall[], err);
  const code = err ? codeOf(err) : Code.OK;
  opts.observe?.(method.name, err ? Code[code] : "OK", elapsedNs / 1e9);
  // A NotFound on a read is an answer, not a failure worth a warning.
  const level = err ? (code === Code.NOT_FOUND || code === Code.UNIMPLEMENTED ? "debug" : "warn") : isRead(method) ? "debug" : "info";
  // Nothing is built for a line nobody reads: most RPCs are reads, logged at debug.
  if (!opts.logger.isLevelEnabled(level)) return;
  const ms = Math.round(elapsedNs / 1e4) / 100;
  const fields: Record<string, unknown> = { rpc: method.name, ...idsOf(req as Record<string, unknown>), ms };
  if (opts.logger.isDebugEnabled()) fields["containerd"] = calls;
  if (err) {
    fields["code"] = Code[code];
    fields["error"] = messageOf(err);
    opts.logger.log(level, `${method.name} failed`, fields);
  } else {
    opts.logger.log(level, `${method.name}`, fields);
  }
}

/** Whether an RPC's containerd calls are read by anyone: the debug log line or the trace file. */
function attributes(opts: InstrumentOptions): boolean {
  return opts.recorder !== undefined || opts.logger.isDebugEnabled();
}

const readMethods = new WeakMap<DescMethod, boolean>();
function isRead(method: DescMethod): boolean {
  let read = readMethods.get(method);
  if (read === undefined) readMethods.set(method, (read = READ_RPC.test(method.name)));
  return read;
}

/** `served`: a call start-up answers before ready (its handler was in the table from the start). */
function precheck(service: DescService, method: DescMethod, handler: unknown, opts: InstrumentOptions, served: boolean): Error | null {
  if (!handler) return unimplemented(`${service.typeName}.${method.name} is not implemented by crib`);
  if (!served && !opts.isReady()) return unavailable("crib is not initialized yet");
  return null;
}

/**
 * The handler for a call, once it may run: at once when crib is ready or the handler is
 * already in the table; else after start-up (the table is complete then).
 */
function handlerFor<H>(handlers: Partial<Record<string, unknown>>, method: DescMethod, opts: InstrumentOptions, run: (h: H | undefined, served: boolean) => void): void {
  const now = handlers[method.localName] as H | undefined;
  if (opts.isReady() || !opts.whenReady) return run(now, false);
  if (now) return run(now, true);
  const later = () => run(handlers[method.localName] as H | undefined, false);
  opts.whenReady.then(later, later);
}

function unaryImpl(service: DescService, method: DescMethod, handlers: Partial<Record<string, unknown>>, opts: InstrumentOptions): grpc.handleUnaryCall<object, object> {
  return (call, callback) => handlerFor<AnyUnary>(handlers, method, opts, (handler, served) => unaryCall(service, method, handler, served, opts, call, callback));
}

function unaryCall(
  service: DescService,
  method: DescMethod,
  handler: AnyUnary | undefined,
  served: boolean,
  opts: InstrumentOptions,
  call: grpc.ServerUnaryCall<object, object>,
  callback: grpc.sendUnaryData<object>,
): void {
  const started = process.hrtime.bigint();
  const refused = precheck(service, method, handler, opts, served);
  if (refused) {
    logOutcome(opts, method, call.request as object, started, [], refused);
    callback(toServiceError(refused));
    return;
  }
  const { trace, result } = runTraced(() => (handler as AnyUnary)(call.request as never, call as never), attributes(opts));
  result.then(
    (res) => {
      logOutcome(opts, method, call.request as object, started, trace.calls, null);
      callback(null, res instanceof EncodedReply ? res : create(method.output, res as never));
    },
    (err: unknown) => {
      logOutcome(opts, method, call.request as object, started, trace.calls, err);
      callback(toServiceError(err));
    },
  );
}

function streamingImpl(service: DescService, method: DescMethod, handlers: Partial<Record<string, unknown>>, opts: InstrumentOptions): grpc.handleServerStreamingCall<object, object> {
  return (call) => handlerFor<AnyStream>(handlers, method, opts, (handler, served) => streamingCall(service, method, handler, served, opts, call));
}

function streamingCall(service: DescService, method: DescMethod, handler: AnyStream | undefined, served: boolean, opts: InstrumentOptions, call: grpc.ServerWritableStream<object, object>): void {
  const started = process.hrtime.bigint();
  const refused = precheck(service, method, handler, opts, served);
  if (refused) {
    logOutcome(opts, method, call.request as object, started, [], refused);
    call.emit("error", toServiceError(refused));
    return;
  }
  const send = (res: object) =>
    new Promise<void>((resolve) => {
      if (call.write(create(method.output, res as never))) resolve();
      else call.once("drain", resolve);
    });
  const { trace, result } = runTraced(() => (handler as AnyStream)(call.request as never, send as never, call as never), attributes(opts));
  result.then(
    () => {
      logOutcome(opts, method, call.request as object, started, trace.calls, null);
      call.end();
    },
    (err: unknown) => {
      logOutcome(opts, method, call.request as object, started, trace.calls, err);
      call.emit("error", toServiceError(err));
    },
  );
}
