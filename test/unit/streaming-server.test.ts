// The streaming server on its own, with a fake runtime behind it: URLs and one-time tokens,
// the SPDY and WebSocket upgrades per endpoint, stream_idle_timeout on both transports,
// TLS, and stop() dropping live sessions.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.js";
import { StreamingServer, type StreamingRuntime, type ExecStreamRequest } from "../../src/streaming/server.js";
import type { RemoteCommandIO } from "../../src/streaming/remote-command-io.js";
import { successStatus } from "../../src/streaming/remotecommand/status.js";
import { dialSpdy, SpdyUpgradeError } from "../client/spdy-client.js";
import { SUPPORTED_STREAM_PROTOCOLS } from "../../src/streaming/remotecommand/constants.js";
import { dialRemoteCommand, WebSocketUpgradeError } from "../client/websocket-client.js";
import { runSpdyRemoteCommand, runWebSocketRemoteCommand, openSpdyRemoteCommand } from "../client/streaming-client.js";
import { streamingTlsKeyPair } from "../../src/streaming/tls-cert.js";

/** exec echoes its argv; "hang" waits until the client goes away (and records that). */
function fakeRuntime() {
  const ended: string[] = [];
  const runtime: StreamingRuntime = {
    async exec(req: ExecStreamRequest, io: RemoteCommandIO) {
      if (req.cmd[0] === "hang") {
        await io.closed;
        ended.push("client gone");
        return;
      }
      io.stdout?.write(req.cmd.join(" ") + "\n");
      await io.finish(successStatus());
    },
    attach: async (_req, io) => io.finish(successStatus()),
    podNetwork: () => ({ sandboxId: "pod", netnsPath: "" }),
  };
  return { runtime, ended };
}

const exec = (cmd: string[]) => ({ kind: "exec" as const, request: { containerId: "c", cmd, stdin: false, stdout: true, stderr: false, tty: false } });

describe("streaming server", () => {
  const servers: StreamingServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });
  async function start(idleTimeoutMs = 0, tls?: { cert: Buffer; key: Buffer }) {
    const fake = fakeRuntime();
    const server = await StreamingServer.start({ address: "127.0.0.1", port: "0", idleTimeoutMs, runtime: fake.runtime, logger: silentLogger(), tls });
    servers.push(server);
    return { server, ...fake };
  }

  it("serves an issued URL once over SPDY and WebSocket, 404 otherwise", async () => {
    const { server } = await start();
    const url = server.issue(exec(["echo", "hi"]));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[\w-]{22}$/);
    const r = await runSpdyRemoteCommand(url, { stderr: false });
    assert.equal(r.stdout, "echo hi\n");
    assert.equal(r.exitCode, 0);
    await assert.rejects(dialSpdy(url, { protocols: SUPPORTED_STREAM_PROTOCOLS }), (e: unknown) => e instanceof SpdyUpgradeError && e.status === 404);
    const ws = await runWebSocketRemoteCommand(server.issue(exec(["over", "ws"])), {});
    assert.equal(ws.stdout, "over ws\n");
    await assert.rejects(dialRemoteCommand(url), (e: unknown) => e instanceof WebSocketUpgradeError && e.status === 404);
  });

  it("answers kubelet's handshake errors after taking the token", async () => {
    const { server } = await start();
    const noProtocol = server.issue(exec(["x"]));
    const plain = await fetch(noProtocol, { method: "POST" });
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /X-Stream-Protocol-Version is required/);
    assert.equal((await fetch(noProtocol, { method: "POST" })).status, 404, "the token is spent");
    const badVersion = server.issue(exec(["x"]));
    await assert.rejects(dialSpdy(badVersion, { protocols: ["v9.channel.k8s.io"] }), (e: unknown) => e instanceof SpdyUpgradeError && e.status === 403);
    assert.equal((await fetch(server.issue(exec(["x"])), { method: "PUT" })).status, 405);
  });

  it("closes idle SPDY and WebSocket sessions after stream_idle_timeout", async () => {
    const { server, ended } = await start(300);
    const { session } = await openSpdyRemoteCommand(server.issue(exec(["hang"])), { stderr: false });
    const closed = new Promise((r) => session.connection.once("close", r));
    const t0 = Date.now();
    await closed;
    assert.ok(Date.now() - t0 >= 250, "not before the timeout");
    const ws = await dialRemoteCommand(server.issue(exec(["hang"])));
    await ws.channels.whenClosed();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(ended, ["client gone", "client gone"]);
  });

  it("drops live sessions when it stops", async () => {
    const { server, ended } = await start();
    const { session } = await openSpdyRemoteCommand(server.issue(exec(["hang"])), { stderr: false });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.activeSessions, 1);
    const closed = new Promise((r) => session.connection.once("close", r));
    await server.stop();
    await closed;
    assert.deepEqual(ended, ["client gone"]);
  });

  it("serves https with a self-signed certificate when TLS is on without key files", async () => {
    const { server } = await start(0, await streamingTlsKeyPair("", "", "127.0.0.1"));
    const url = server.issue(exec(["secure"]));
    assert.match(url, /^https:\/\//);
    const r = await runSpdyRemoteCommand(url, { stderr: false });
    assert.equal(r.stdout, "secure\n");
    await assert.rejects(streamingTlsKeyPair("/only/cert", "", ""), /must set both/);
  });
});
