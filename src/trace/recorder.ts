// The trace recorder (--trace-file): one JSON line per CRI RPC with the containerd calls it
// made, in order, with their key request fields, durations and codes. Work outside any RPC
// (start-up recovery, task exit handling) is recorded as pseudo-RPC lines "(start-up)",
// "(task exit)". Nothing here runs unless a trace file is configured.
import { createWriteStream, type WriteStream } from "node:fs";
import { withTrace, type RpcTrace, type TracedCall } from "../containerd/trace.js";
import { codeOf, Code, messageOf } from "../errors.js";
import { criRequestFields } from "./cri-fields.js";
import type { Fields } from "./request-fields.js";

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

const round = (ms: number) => Math.round(ms * 100) / 100;

export class TraceRecorder {
  private readonly out: WriteStream;
  private readonly pending = new Set<{ flush(err: unknown): void }>();

  constructor(readonly path: string) {
    // Appended to: a restarted crib continues the same file.
    this.out = createWriteStream(path, { flags: "a", mode: 0o640 });
    this.out.on("error", () => undefined); // a full disk must not take crib down; the trace is best effort
  }

  /** One CRI RPC has ended (called by the instrumented wrapper). */
  rpc(rpc: string, req: unknown, startedNs: bigint, calls: readonly TracedCall[], err: unknown): void {
    this.write(lineOf(rpc, criRequestFields(req), startedNs, calls, err));
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
        if (trace.calls.length > 0 || err) this.write(lineOf(name, request, startedNs, trace.calls, err));
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
export function traced<T>(recorder: TraceRecorder | undefined, name: string, request: Fields, fn: () => T): T {
  return recorder ? recorder.background(name, request, fn) : fn();
}

function lineOf(rpc: string, request: Fields, startedNs: bigint, calls: readonly TracedCall[], err: unknown): TraceLine {
  const now = process.hrtime.bigint();
  const ms = Number(now - startedNs) / 1e6;
  const line: TraceLine = {
    rpc,
    request,
    time: new Date(Date.now() - ms).toISOString(),
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
