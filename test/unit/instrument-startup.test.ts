// The socket answers during start-up (server.ts binds before the stores are recovered):
// a handler already in the table (Version) answers at once, every other RPC waits for
// start-up and is then served from the completed table; one crib does not serve answers
// UNIMPLEMENTED after start-up; a failed start-up answers the waiting calls UNAVAILABLE.
// Without whenReady, calls before ready fail UNAVAILABLE as before.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { RuntimeService } from "../../src/gen/runtime/v1/api_pb.js";
import type { RuntimeHandlers } from "../../src/common/deps.js";
import { grpcServiceDefinition } from "../../src/rpc/proto-service.js";
import { instrumentService } from "../../src/server/instrument.js";
import { silentLogger } from "../../src/log.js";
import { codeOfCall, connectCri } from "../client/cri-client.js";
import { Code } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "crib-instrument-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function serve(table: Partial<RuntimeHandlers>, opts: { isReady: () => boolean; whenReady?: Promise<void> }) {
  const socket = join(dir, `s-${process.hrtime.bigint()}.sock`);
  const server = new grpc.Server();
  server.addService(grpcServiceDefinition(RuntimeService), instrumentService(RuntimeService, table, { logger: silentLogger(), ...opts }));
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  const client = connectCri(socket, 10_000);
  return {
    client,
    close: () => {
      client.close();
      server.forceShutdown();
    },
  };
}

const version: RuntimeHandlers["version"] = async () => ({ version: "0.1.0", runtimeName: "containerd", runtimeVersion: "x", runtimeApiVersion: "v1" });

describe("RPCs during start-up", () => {
  test("Version answers at once, the others wait for start-up and are then served from the completed table", async () => {
    let ready = false;
    let started!: () => void;
    const whenReady = new Promise<void>((r) => (started = r));
    const table: Partial<RuntimeHandlers> = { version };
    const s = await serve(table, { isReady: () => ready, whenReady });
    try {
      assert.equal((await s.client.runtime.version({})).runtimeApiVersion, "v1");
      let listed: string[] | undefined;
      const list = s.client.runtime.listContainers({}).then((r) => (listed = r.containers.map((c) => c.id)));
      const unserved = codeOfCall(s.client.runtime.checkpointContainer({ containerId: "x" }));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(listed, undefined, "ListContainers waits while start-up runs");
      table.listContainers = async () => ({ containers: [{ id: "c1" }] });
      ready = true;
      started();
      await list;
      assert.deepEqual(listed, ["c1"]);
      assert.equal(await unserved, Code.UNIMPLEMENTED);
    } finally {
      s.close();
    }
  });

  test("a failed start-up answers the waiting calls UNAVAILABLE", async () => {
    let failed!: (e: unknown) => void;
    const whenReady = new Promise<void>((_, reject) => (failed = reject));
    whenReady.catch(() => undefined);
    const table: Partial<RuntimeHandlers> = { version };
    const s = await serve(table, { isReady: () => false, whenReady });
    try {
      const waiting = codeOfCall(s.client.runtime.listContainers({}));
      await new Promise((r) => setTimeout(r, 100));
      table.listContainers = async () => ({ containers: [] });
      failed(new Error("recovery failed"));
      assert.equal(await waiting, Code.UNAVAILABLE);
    } finally {
      s.close();
    }
  });

  test("without whenReady every call before ready fails UNAVAILABLE, Version too", async () => {
    const s = await serve({ version }, { isReady: () => false });
    try {
      assert.equal(await codeOfCall(s.client.runtime.version({})), Code.UNAVAILABLE);
    } finally {
      s.close();
    }
  });
});
