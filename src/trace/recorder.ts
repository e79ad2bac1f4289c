// The trace recorder (--trace-file): one JSON line per CRI RPC with the containerd calls it
// made, in order, with their key request fields, durations and codes. Work outside any RPC
// (start-up recovery, task exit handling) is recorded as pseudo-RPC lines "(start-up)",
// "(task exit)". Nothing here runs unless a trace file is configured.
import { createWriteStream, type WriteStream } from "node:fs";
import { withTrace, type CallRecorder, type RpcTrace, type TracedCall } from "../containerd/trace.js";
import { codeOf, Code, messageOf } from "../errors.js";
import { criRequestFields } from "./cri-fields.js";
import { requestFields, type Fields } from "./request-fields.js";

export interface RecordedCall {
  /** "tasks.v1.Tasks/Create" */
  method: string;
  fields: Fields;
  /** Milliseconds after the RPC started. */
  at: number;
  ms: number;
  code: string;
}

export interface TraceLine {
  /** CRI method name, or "(start-up)", "(task exit)" for background work. */
  rpc: string;
  /** The request's identifying fields. */
  request: Fields;
  /** ISO time the RPC started. */
  time: string;
  ms: number;
  code: string;
  error?: string;
  calls: RecordedCall[];
}

/** A line the scenario that generates docs/mapping.md writes between RPCs to name the case. */
export interface NoteLine {
  note: string;
}

/** Background work without a promise to wait for is written once no call came for this long. */
const QUIET_MS = 1500;
/** How long an RPC's line waits for calls it left running (a lease released without waiting). */
const INFLIGHT_WAIT_MS = 5000;

const round = (ms: number) => Math.round(ms * 100) / 100;

export class TraceRecorder implements CallRecorder {
  private readonly out: WriteStream;
  private readonly pending = new Set<{ flush(err: unknown): void }>();
  /** Calls still running per trace (keyed by its calls list), and the lines waiting for them. */
  private readonly inflight = new Map<readonly TracedCall[], number>();
  private readonly waiting = new Map<readonly TracedCall[], () => void>();
  private settledWaiters: (() => void)[] = [];

  constructor(readonly path: string) {
    // Appended to: a restarted crib continues the same file.
    this.out = createWriteStream(path, { flags: "a", mode: 0o640 });
    this.out.on("error", () => undefined); // a full disk must not take crib down; the trace is best effort
  }

  /**
   * One CRI RPC has ended (called by the instrumented wrapper). Calls it started and left
   * running are waited for (up to INFLIGHT_WAIT_MS), so they are in its line.
   */
  rpc(rpc: string, req: unknown, startedNs: bigint, calls: readonly TracedCall[], err: unknown): void {
    const endNs = process.hrtime.bigint();
    const request = criRequestFields(req);
    let timer: NodeJS.Timeout | undefined;
    const write = () => {
      this.waiting.delete(calls);
      if (timer) clearTimeout(timer);
      this.write(lineOf(rpc, request, startedNs, endNs, calls, err));
      if (this.waiting.size === 0) for (const w of this.settledWaiters.splice(0)) w();
    };
    if (!this.inflight.get(calls)) return write();
    timer = setTimeout(write, INFLIGHT_WAIT_MS);
    timer.unref();
    this.waiting.set(calls, write);
  }

  /** The key request fields of a containerd call (called by the containerd client). */
  requestFields(method: string, req: unknown): Fields {
    return requestFields(method, req);
  }

  /** A containerd call of the current trace started (called by the containerd client). */
  callStarted(calls: readonly TracedCall[] | undefined): void {
    if (calls) this.inflight.set(calls, (this.inflight.get(calls) ?? 0) + 1);
  }

  /** ... and ended (after it was recorded). */
  callEnded(calls: readonly TracedCall[] | undefined): void {
    if (!calls) return;
    const n = (this.inflight.get(calls) ?? 1) - 1;
    if (n > 0) return void this.inflight.set(calls, n);
    this.inflight.delete(calls);
    this.waiting.get(calls)?.();
  }

  /** Resolves once no RPC line waits for its calls (the mapping scenario's steps stay in order). */
  settled(): Promise<void> {
    if (this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  note(note: string): void {
    this.writeRaw({ note });
  }

  /**
   * Runs background work in a trace of its own. A promise's line is written when it
   * settles; work that only spawns async work (an event handler) is written once quiet.
   */
  background<T>(name: string, request: Fields, fn: () => T): T {
    const startedNs = process.hrtime.bigint();
    const trace: RpcTrace = { calls: [] };
    const entry = {
      flush: (err: unknown) => {
        if (trace.done) return;
        trace.done = true; // calls of work it left running are no longer its own
        this.pending.delete(entry);
        if (trace.calls.length > 0 || err) this.write(lineOf(name, request, startedNs, process.hrtime.bigint(), trace.calls, err));
      },
    };
    this.pending.add(entry);
    let value: T;
    try {
      value = withTrace(trace, fn);
    } catch (e) {
      entry.flush(e);
      throw e;
    }
    if (value instanceof Promise) {
      value.then(
        () => entry.flush(null),
        (e: unknown) => entry.flush(e),
      );
    } else {
      let seen = -1;
      const tick = () => {
        if (trace.calls.length === seen) return entry.flush(null);
        seen = trace.calls.length;
        setTimeout(tick, QUIET_MS).unref();
      };
      tick();
    }
    return value;
  }

  /** Writes what background work is still open, then closes the file. */
  async close(): Promise<void> {
    for (const w of [...this.waiting.values()]) w();
    for (const p of [...this.pending]) p.flush(null);
    await new Promise<void>((resolve) => this.out.end(resolve));
  }

  private write(line: TraceLine): void {
    this.writeRaw(line);
  }

  private writeRaw(obj: TraceLine | NoteLine): void {
    this.out.write(JSON.stringify(obj) + "\n");
  }
}

/** Runs fn as recorded background work when a recorder is given, else just runs it. */
export function traced<T>(recorder: CallRecorder | undefined, name: string, request: Fields, fn: () => T): T {
  return recorder ? recorder.background(name, request, fn) : fn();
}

function lineOf(rpc: string, request: Fields, startedNs: bigint, endNs: bigint, calls: readonly TracedCall[], err: unknown): TraceLine {
  const ms = Number(endNs - startedNs) / 1e6;
  const line: TraceLine = {
    rpc,
    request,
    time: new Date(Date.now() - Number(process.hrtime.bigint() - startedNs) / 1e6).toISOString(),
    ms: round(ms),
    code: err ? Code[codeOf(err)] : "OK",
    calls: calls.map((c) => ({
      method: c.method,
      fields: c.fields ?? c.ids,
      at: c.startedNs === undefined ? 0 : round(Number(c.startedNs - startedNs) / 1e6),
      ms: round(c.ms),
      code: c.code,
    })),
  };
  if (err) line.error = messageOf(err);
  return line;
}
