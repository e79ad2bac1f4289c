// GetContainerEvents over a real gRPC connection: two readers get every event in order,
// a client that stopped reading does not hold them up and is dropped with
// RESOURCE_EXHAUSTED (which it sees once it reads again), and stopping the feed ends the
// streams cleanly.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { ContainerEventType, RuntimeService, type ContainerEventResponse } from "../../src/gen/runtime/v1/api_pb.js";
import { grpcServiceDefinition } from "../../src/rpc/proto-service.js";
import { instrumentService } from "../../src/server/instrument.js";
import { ContainerEventHub } from "../../src/events/container-events.js";
import { getContainerEvents } from "../../src/events/events-get.js";
import { silentLogger } from "../../src/log.js";
import { connectCri, type CriClient } from "../client/cri-client.js";

const MAX_QUEUED = 64;
/** Large enough that a few unread events fill HTTP/2's flow-control window. */
const BIG = "x".repeat(16 * 1024);

describe("GetContainerEvents stream", () => {
  const dir = mkdtempSync(join(tmpdir(), "crib-events-"));
  const socket = join(dir, "cri.sock");
  const hub = new ContainerEventHub(silentLogger(), MAX_QUEUED);
  hub.attach({
    sandboxStatus: (id) => ({ id, annotations: { big: BIG } }),
    containerStatuses: () => [],
  });
  const server = new grpc.Server();
  let client: CriClient;

  before(async () => {
    server.addService(
      grpcServiceDefinition(RuntimeService),
      instrumentService(RuntimeService, { getContainerEvents: getContainerEvents(hub) }, { logger: silentLogger(), isReady: () => true }),
    );
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    client = connectCri(socket);
  });
  after(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const waitSubscribers = async (n: number) => {
    for (let i = 0; i < 200 && hub.subscriberCount !== n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(hub.subscriberCount, n);
  };

  /** Reads a stream into an array until it ends; the promise settles with the stream's end. */
  function collect(): { events: ContainerEventResponse[]; done: Promise<void>; abort: AbortController; error: () => unknown } {
    const abort = new AbortController();
    const events: ContainerEventResponse[] = [];
    let error: unknown;
    const done = (async () => {
      for await (const e of client.runtime.getContainerEvents({}, { timeoutMs: 0, signal: abort.signal })) events.push(e);
    })().catch((e: unknown) => {
      error = e;
    });
    return { events, done, abort, error: () => error };
  }

  test("two readers and one client that stopped reading", async () => {
    const a = collect();
    const b = collect();
    // A hung client: its own process, stopped, so it reads nothing and grants no HTTP/2 window.
    const stalled = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "events-stalled-client.ts"), socket], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    stalled.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => stalled.on("exit", () => resolve()));
    try {
      await waitSubscribers(3);
      stalled.kill("SIGSTOP");

      const N = 200;
      const types = [
        ContainerEventType.CONTAINER_CREATED_EVENT,
        ContainerEventType.CONTAINER_STARTED_EVENT,
        ContainerEventType.CONTAINER_STOPPED_EVENT,
        ContainerEventType.CONTAINER_DELETED_EVENT,
      ];
      for (let i = 0; i < N; i++) {
        hub.emit(types[i % 4]!, `c${i}`, "pod");
        // Events come with RPCs and exits, spread over time; the readers keep up with that.
        await new Promise((r) => setTimeout(r, 2));
      }
      await waitSubscribers(2);
      for (let i = 0; i < 200 && (a.events.length < N || b.events.length < N); i++) await new Promise((r) => setTimeout(r, 10));
      for (const r of [a, b]) {
        assert.equal(r.error(), undefined);
        assert.equal(r.events.length, N);
        assert.deepEqual(
          r.events.map((e) => e.containerId),
          Array.from({ length: N }, (_, i) => `c${i}`),
        );
        assert.equal(r.events[1]!.containerEventType, ContainerEventType.CONTAINER_STARTED_EVENT);
        assert.equal(r.events[0]!.podSandboxStatus?.annotations["big"]?.length, BIG.length);
      }

      // Resumed, the hung client reads what was already on its way, then the error.
      stalled.kill("SIGCONT");
      await exited;
      const result = JSON.parse(out.split("\n").filter((l) => l.startsWith("{"))[0] ?? "{}") as { received: number; code: number; details: string };
      assert.equal(result.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(result.details, /does not read fast enough/);
      assert.ok(result.received < N - MAX_QUEUED, `it did not get everything (${result.received})`);
    } finally {
      stalled.kill("SIGCONT");
      stalled.kill("SIGKILL");
    }

    // Stopping the feed (crib stopping) ends the readers' streams without an error.
    hub.close();
    await Promise.all([a.done, b.done]);
    assert.equal(a.error(), undefined);
    assert.equal(hub.subscriberCount, 0);
  });

  test("a client that cancels leaves no subscriber behind", async () => {
    const r = collect();
    await waitSubscribers(1);
    r.abort.abort();
    await r.done;
    await waitSubscribers(0);
  });
});
