// A gRPC (HTTP/2) pass-through between crib and containerd.sock that can stop at a chosen
// containerd call, for crash tests: crib (a child process) is pointed at the proxy, the
// test arms a crash point ("the 1st Tasks/Create, once containerd has it") and kills crib
// when it is reached. One upstream connection per crib connection, so crib's death is a
// closed connection for containerd too: exactly what a kill -9 does to in-flight calls.
//
//   const proxy = await startContainerdProxy(harness.containerd.address, join(dir, "proxy.sock"));
//   const hit = proxy.arm({ method: "tasks.v1.Tasks/Create", timing: "during" });
//   client.runtime.runPodSandbox(...); await hit; child.kill("SIGKILL");
import * as http2 from "node:http2";
import { connect, type Server } from "node:net";
import { rmSync } from "node:fs";

/**
 * When crib is stopped relative to the call:
 * - before: the call does not reach containerd (until release());
 * - during: containerd has the request (and works on it for delayMs) when crib dies;
 * - after: containerd finished the call, crib never saw the answer.
 */
export type CrashTiming = "before" | "during" | "after";

export interface CrashPoint {
  /** The end of the gRPC path: "tasks.v1.Tasks/Create", "Containers/Delete". */
  method: string;
  timing: CrashTiming;
  /** Which occurrence after arming (1 = the next one). */
  nth?: number;
  /** "during": how long containerd works on the call before the hit is reported. */
  delayMs?: number;
}

export interface ContainerdProxy {
  socket: string;
  /** Resolves when the crash point is reached; the call is then held (no answer reaches crib). */
  arm(point: CrashPoint): Promise<void>;
  /** Sends on the calls held back by a "before" point (crib was not killed after all). */
  release(): void;
  /** gRPC paths seen since start, in order ("/containerd.services.tasks.v1.Tasks/Create"). */
  calls: string[];
  close(): Promise<void>;
}

const { NGHTTP2_CANCEL } = http2.constants;

/** Request headers forwarded as they came (pseudo-headers are set by the client session). */
function forwardable(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(":") || k === ":path" || k === ":method") out[k] = v;
  return out;
}
function responseHeaders(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(":") || k === ":status") out[k] = v;
  return out;
}

export async function startContainerdProxy(upstream: string, socket: string): Promise<ContainerdProxy> {
  rmSync(socket, { force: true });
  const calls: string[] = [];
  let armed: { point: CrashPoint; seen: number; hit: () => void } | undefined;
  const sessions = new Set<http2.ServerHttp2Session>();
  const upSessions = new Set<http2.ClientHttp2Session>();

  /** The crash point this call is, if any (each point fires once). */
  const matches = (path: string): CrashPoint | undefined => {
    if (!armed || !path.endsWith(armed.point.method)) return undefined;
    armed.seen++;
    if (armed.seen !== (armed.point.nth ?? 1)) return undefined;
    return armed.point;
  };
  const fire = () => {
    const a = armed;
    armed = undefined;
    a?.hit();
  };

  // Each crib connection gets its own upstream connection (mirrors connection loss).
  const pairs = new WeakMap<http2.Http2Session, http2.ClientHttp2Session>();
  const server = http2.createServer();
  server.on("session", (session) => {
    sessions.add(session);
    const up = http2.connect("http://localhost", { createConnection: () => connect(upstream) });
    upSessions.add(up);
    pairs.set(session, up);
    up.on("error", () => undefined);
    session.on("error", () => undefined);
    // crib's connection gone (killed): containerd's connection goes with it.
    session.on("close", () => {
      sessions.delete(session);
      up.destroy();
      upSessions.delete(up);
    });
    up.on("close", () => session.destroy());
  });
  const heldBack: Array<() => void> = [];
  server.on("stream", (stream, headers) => {
    const path = String(headers[":path"] ?? "");
    calls.push(path);
    const point = matches(path);
    stream.on("error", () => undefined);
    if (point?.timing === "before") {
      // Held back until release() (the request body waits in the stream's buffer).
      heldBack.push(() => forward(stream, headers, undefined));
      fire();
      return;
    }
    forward(stream, headers, point);
  });

  function forward(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, point: CrashPoint | undefined): void {
    if (stream.closed) return;
    const up = stream.session ? pairs.get(stream.session) : undefined;
    if (!up || up.destroyed) {
      stream.close(NGHTTP2_CANCEL);
      return;
    }
    const req = up.request(forwardable(headers), { endStream: false });
    req.on("error", () => undefined);
    let held = false;
    stream.on("close", () => {
      if (!req.closed) req.close(NGHTTP2_CANCEL);
    });
    stream.pipe(req);
    if (point?.timing === "during") {
      stream.on("end", () => setTimeout(fire, point.delayMs ?? 0));
      held = true;
    }
    if (point?.timing === "after") held = true;
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on("response", (h, flags) => {
      if (held) {
        // Read and drop: the call completes in containerd, crib waits for an answer.
        req.resume();
        req.on("end", () => {
          if (point?.timing === "after") fire();
        });
        return;
      }
      if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
        // Trailers-only response (a gRPC error without a body).
        if (!stream.closed) stream.respond(responseHeaders(h), { endStream: true });
        return;
      }
      if (stream.closed) return;
      stream.respond(responseHeaders(h), { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers(trailers ? responseHeaders(trailers) : {}));
      req.pipe(stream);
    });
    req.on("trailers", (t) => (trailers = t));
  }

  await new Promise<void>((resolve, reject) => {
    (server as unknown as Server).once("error", reject);
    server.listen(socket, () => resolve());
  });

  return {
    socket,
    calls,
    release() {
      for (const f of heldBack.splice(0)) f();
    },
    arm(point) {
      return new Promise<void>((resolve) => {
        armed = { point, seen: 0, hit: resolve };
      });
    },
    async close() {
      armed = undefined;
      for (const s of sessions) s.destroy();
      for (const u of upSessions) u.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socket, { force: true });
    },
  };
}
