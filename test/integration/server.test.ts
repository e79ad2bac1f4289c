// The server itself against the real containerd: Version/Status/RuntimeConfig, the
// wrapper (UNIMPLEMENTED with the RPC's name, the containerd calls in the debug log line),
// the socket rules, and the refusal to share a containerd whose own CRI plugin is loaded.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { status as Code } from "@grpc/grpc-js";
import { CgroupDriver, RuntimeService } from "../../src/gen/runtime/v1/api_pb.js";
import { grpcServiceDefinition } from "../../src/rpc/proto-service.js";
import { instrumentService } from "../../src/server/instrument.js";
import { DEFAULTS, type Config } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";
import { startCrib } from "../../src/server/server.js";
import { CriError } from "../../src/errors.js";
import { codeOfCall, connectCri } from "../client/cri-client.js";
import { loadHarness } from "../harness/env.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

describe("CRI server", () => {
  let t: TestCrib;
  before(async () => {
    t = await startTestCrib();
  });
  after(() => t.stop());

  it("Version names containerd and its version", async () => {
    const v = await t.client.runtime.version({});
    assert.equal(v.runtimeName, "containerd");
    assert.equal(v.runtimeApiVersion, "v1");
    assert.ok(v.runtimeVersion.startsWith(t.harness.containerd.version), `${v.runtimeVersion} vs ${t.harness.containerd.version}`);
    assert.match(v.runtimeVersion, /[+.]crib-\d+\.\d+\.\d+$/);
  });

  it("Status: runtime and network ready with the harness's CNI config", async () => {
    const s = await t.client.runtime.status({ verbose: true });
    const cond = Object.fromEntries(s.status!.conditions.map((c) => [c.type, c]));
    assert.equal(cond["RuntimeReady"]?.status, true);
    assert.equal(cond["NetworkReady"]?.status, true);
    assert.equal(s.info["lastCNILoadStatus"], "OK");
    assert.equal(JSON.parse(s.info["crib"]!).namespace, t.config.namespace);
  });

  it("Status: NetworkReady=false with containerd's reason when no CNI config exists", async () => {
    const empty = join(t.harness.scratchDir, "empty-net.d");
    mkdirSync(empty, { recursive: true });
    const other = await startTestCrib({ cniConfDir: empty });
    try {
      const s = await other.client.runtime.status({});
      const net = s.status!.conditions.find((c) => c.type === "NetworkReady")!;
      assert.equal(net.status, false);
      assert.equal(net.reason, "NetworkPluginNotReady");
      assert.match(net.message, /cni plugin not initialized/);
    } finally {
      await other.stop();
    }
  });

  it("RuntimeConfig reports the cgroup driver of the default runtime", async () => {
    const r = await t.client.runtime.runtimeConfig({});
    assert.equal(r.linux?.cgroupDriver, CgroupDriver.CGROUPFS);
    const sd = await startTestCrib({ runtimes: { runc: { runtimeType: "io.containerd.runc.v2", options: { SystemdCgroup: true }, sandboxer: "podsandbox" } } });
    try {
      assert.equal((await sd.client.runtime.runtimeConfig({})).linux?.cgroupDriver, CgroupDriver.SYSTEMD);
    } finally {
      await sd.stop();
    }
  });

  it("an RPC crib does not serve answers UNIMPLEMENTED with its name", async () => {
    // crib now serves every runtime.v1 RPC: the wrapper is shown on a server without handlers.
    const sock = join(t.harness.scratchDir, `unimplemented-${process.pid}.sock`);
    const server = new grpc.Server();
    server.addService(grpcServiceDefinition(RuntimeService), instrumentService(RuntimeService, {}, { logger: silentLogger(), isReady: () => true }));
    await new Promise<void>((res, rej) => server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
    const bare = connectCri(sock);
    try {
      await bare.runtime.updatePodSandboxResources({ podSandboxId: "x" });
      assert.fail("expected an error");
    } catch (e) {
      const err = e as { code: number; details: string };
      assert.equal(err.code, Code.UNIMPLEMENTED);
      assert.match(err.details, /UpdatePodSandboxResources/);
    } finally {
      bare.close();
      server.forceShutdown();
    }
  });

  it("the debug log line of an RPC lists the containerd calls it made; Version asks containerd once, then answers from memory", async () => {
    // A crib of its own: its first Version is the one that asks containerd.
    const fresh = await startTestCrib({});
    try {
      await fresh.client.runtime.version({});
      const line = fresh.rpcLogs("Version").at(-1)!;
      assert.equal(line.code, undefined);
      assert.ok(typeof line["ms"] === "number");
      const calls = line.containerd ?? [];
      assert.deepEqual(
        calls.map((c) => [c.method, c.code]),
        [["version.v1.Version/Version", "OK"]],
      );
      const again = await fresh.client.runtime.version({});
      assert.ok(again.runtimeVersion.startsWith(t.harness.containerd.version));
      assert.deepEqual(fresh.rpcLogs("Version").at(-1)!.containerd, []);
    } finally {
      await fresh.stop();
    }
  });

  it("the socket is mode 0660", () => {
    assert.equal(statSync(t.config.listen).mode & 0o777, 0o660);
  });

  it("a second server on a live socket is refused; a stale socket is replaced", async () => {
    // Another crib on the same dirs and socket stops at the instance lock (test/integration/instance-lock.test.ts).
    await assert.rejects(startCrib({ ...t.config }, silentLogger()), (e: unknown) => e instanceof CriError && e.code === Code.FAILED_PRECONDITION && /another crib is using the root dir/.test(e.message));
    // Any other server answering on the socket is refused too.
    const live = join(t.harness.scratchDir, `live-${process.pid}.sock`);
    const liveServer = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => liveServer.listen(live, r));
    try {
      const own = join(t.harness.scratchDir, `live-${process.pid}`);
      await assert.rejects(
        startCrib({ ...t.config, listen: live, rootDir: join(own, "root"), stateDir: join(own, "state") }, silentLogger()),
        (e: unknown) => e instanceof CriError && e.code === Code.FAILED_PRECONDITION && /another server is already serving/.test(e.message),
      );
    } finally {
      await new Promise((r) => liveServer.close(r));
    }
    // A socket file nobody answers on (its server was killed) is taken over.
    const stale = join(t.harness.scratchDir, "stale.sock");
    const child = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, "SIGKILL"))`]);
    await new Promise((r) => child.once("exit", r));
    assert.ok(statSync(stale).isSocket(), "stale socket file exists");
    const other = await startTestCrib({ listen: stale });
    try {
      assert.equal(await codeOfCall(other.client.runtime.version({})), Code.OK);
    } finally {
      await other.stop();
    }
  });
});

describe("a containerd with its own CRI plugin", () => {
  const h = loadHarness();
  const base = (): Config => {
    const dir = join(h.scratchDir, `cri-refusal-${process.hrtime.bigint()}`);
    return { ...DEFAULTS, listen: join(dir, "crib.sock"), containerdAddress: h.criContainerd!.address, namespace: "crib-refusal", rootDir: join(dir, "root"), stateDir: join(dir, "state") };
  };

  it("is refused unless the override flag is given", async () => {
    assert.ok(h.criContainerd, "needs the harness started with --with-cri (make test does)");
    await assert.rejects(startCrib(base(), silentLogger()), (e: unknown) => e instanceof CriError && e.code === Code.FAILED_PRECONDITION && /CRI plugin is loaded/.test(e.message));
    const cfg = { ...base(), allowContainerdCri: true };
    const crib = await startCrib(cfg, silentLogger());
    const client = connectCri(cfg.listen);
    try {
      assert.equal(await codeOfCall(client.runtime.version({})), Code.OK);
    } finally {
      client.close();
      await crib.stop();
    }
  });
});
