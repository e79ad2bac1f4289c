// Attributes every containerd call to the CRI RPC being served (AsyncLocalStorage), so the
// RPC's log line can list the containerd calls it made: the seed of the mapping trace.
import { AsyncLocalStorage } from "node:async_hooks";

export interface TracedCall {
  /** "containerd.services.tasks.v1.Tasks/Create" */
  method: string;
  /** Key ids of the request (id, container_id, key, name, ...). */
  ids: Record<string, string>;
  ms: number;
  /** gRPC status code name, "OK" on success. */
  code: string;
  /** Set only when a trace file is recorded: the request fields src/trace/request-fields.ts picks. */
  fields?: Record<string, string>;
  /** Set only when a trace file is recorded: when the call started (process.hrtime). */
  startedNs?: bigint;
}

/**
 * The --trace-file recorder as the containerd client and the code around it see it.
 * src/trace/recorder.ts implements it; declared here so this layer never imports src/trace.
 */
export interface CallRecorder {
  /** The request fields a trace line keeps for this containerd call. */
  requestFields(method: string, req: unknown): Record<string, string>;
  /** A containerd call of the given trace started / ended (after it was recorded). */
  callStarted(calls: readonly TracedCall[] | undefined): void;
  callEnded(calls: readonly TracedCall[] | undefined): void;
  /** Runs background work in a trace of its own ("(task exit)", "(exec session)"). */
  background<T>(name: string, request: Record<string, string>, fn: () => T): T;
  /** Resolves once no RPC line waits for its calls. */
  settled(): Promise<void>;
  /** Writes a note line between RPCs (the mapping scenario names its cases). */
  note(note: string): void;
}

export interface RpcTrace {
  calls: TracedCall[];
  /** A recorded background trace that was written: later calls of work it spawned are dropped. */
  done?: boolean;
}

const storage = new AsyncLocalStorage<RpcTrace>();

/**
 * Runs an RPC's handler with its containerd calls attributed to the returned trace; with
 * `attribute` false (nobody reads the calls: no debug log, no trace file), fn runs as it is
 * and the trace stays empty. Node 20's AsyncLocalStorage, once run, hooks the creation of
 * every promise and native handle in the process: about 5% of a read's CPU.
 */
export function runTraced<T>(fn: () => Promise<T>, attribute = true): { trace: RpcTrace; result: Promise<T> } {
  const trace: RpcTrace = { calls: [] };
  return { trace, result: attribute ? storage.run(trace, fn) : fn() };
}

/** Runs fn (sync or async) with calls attributed to the given trace. */
export function withTrace<T>(trace: RpcTrace, fn: () => T): T {
  return storage.run(trace, fn);
}

export function currentTrace(): RpcTrace | undefined {
  return storage.getStore();
}

/** Caps what one RPC records, so a long streaming RPC cannot grow its trace without bound. */
const MAX_CALLS = 200;

export function recordCall(call: TracedCall): void {
  const t = storage.getStore();
  if (t && t.calls.length < MAX_CALLS && !t.done) t.calls.push(call);
}
