// End to end over 127.0.0.1: node:http server with the SPDY upgrade, crib's SPDY client,
// streams typed the way kubectl/crictl type them.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { dialSpdy, SpdyUpgradeError } from "../client/spdy-client.js";
import { checkSpdyHandshake, headerList, negotiateProtocol, upgradeToSpdy, writeHttpError } from "../../src/streaming/spdy/upgrade.js";
import { headerValue } from "../../src/streaming/spdy/header-compression.js";
import { RstStatus } from "../../src/streaming/spdy/frames.js";
import type { SpdyConnection } from "../../src/streaming/spdy/connection.js";
import type { SpdyStream } from "../../src/streaming/spdy/stream.js";
import { SUPPORTED_PORT_FORWARD_PROTOCOLS, SUPPORTED_STREAM_PROTOCOLS, StreamProtocol } from "../../src/streaming/remotecommand/constants.js";
import { openPortForwardStreams, openRemoteCommandStreams } from "../../src/streaming/spdy/k8s-streams.js";
import { readAll, sleep, whenClosed } from "./spdy-helpers.js";

const serverStreams: SpdyStream[] = [];
const serverConnections: SpdyConnection[] = [];
const negotiated: string[] = [];

const server = http.createServer((req, res) => {
  // Not an upgrade at all: the same handshake check answers (400 missing upgrade headers).
  const result = checkSpdyHandshake(req.headers, SUPPORTED_STREAM_PROTOCOLS);
  res.writeHead(result.ok ? 400 : result.status, { "Content-Type": "text/plain; charset=utf-8", ...(result.ok ? {} : result.headers) });
  res.end(`${result.ok ? "unable to upgrade: missing upgrade headers in request" : result.message}\n`);
});
server.on("upgrade", (req: http.IncomingMessage, socket, head: Buffer) => {
  const protocols = req.url?.startsWith("/portforward") ? SUPPORTED_PORT_FORWARD_PROTOCOLS : SUPPORTED_STREAM_PROTOCOLS;
  const session = upgradeToSpdy(req.headers, socket, head, protocols);
  if (!session) return;
  negotiated.push(session.protocol);
  serverConnections.push(session.connection);
  session.connection.on("stream", (stream: SpdyStream) => {
    if (headerValue(stream.headers, "streamtype") === "refuse-me") return stream.reset(RstStatus.RefusedStream);
    stream.accept();
    serverStreams.push(stream);
    if (headerValue(stream.headers, "streamtype") === "stdin") {
      // Echo stdin back, upper-cased, on the same stream.
      stream.on("data", (d: Buffer) => stream.write(d.toString().toUpperCase()));
      stream.on("end", () => stream.end());
    }
  });
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  for (const c of serverConnections) c.destroy();
  server.close();
});

async function nextServerStream(): Promise<SpdyStream> {
  for (let i = 0; i < 300 && serverStreams.length === 0; i++) await sleep(10);
  const s = serverStreams.shift();
  assert.ok(s, "server got a stream");
  return s;
}

test("upgrade negotiates the client's most preferred common version", async () => {
  const { connection, protocol } = await dialSpdy(`${base}/exec/token`, {
    protocols: [StreamProtocol.V5, StreamProtocol.V4, StreamProtocol.V3],
  });
  assert.equal(protocol, StreamProtocol.V4);
  assert.equal(negotiated.at(-1), StreamProtocol.V4);
  await connection.close();
});

test("exec-style session: typed streams, data both ways, FIN, RST, PING", async () => {
  const { connection } = await dialSpdy(`${base}/exec/token`, { protocols: [StreamProtocol.V4] });
  // kubectl's order: error stream first, then stdin/stdout/stderr (and resize for a tty).
  const errorStream = connection.openStream({ streamType: "error" });
  const stdin = connection.openStream({ streamType: "stdin" });
  const stdout = connection.openStream({ streamType: "stdout" });
  await Promise.all([errorStream, stdin, stdout].map((s) => s.waitForReply()));
  const serverError = await nextServerStream();
  const serverStdin = await nextServerStream();
  const serverStdout = await nextServerStream();
  assert.deepEqual(
    [serverError, serverStdin, serverStdout].map((s) => [s.id, headerValue(s.headers, "streamType")]),
    [[1, "error"], [3, "stdin"], [5, "stdout"]],
  );

  // stdin echoes through the server; FIN from the client ends the server's copy, which FINs back.
  const echoed = readAll(stdin);
  stdin.write("hello ");
  stdin.end("spdy");
  assert.equal((await echoed).toString(), "HELLO SPDY");

  // 1 MiB of stdout from the server arrives intact.
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  const out = readAll(stdout);
  serverStdout.end(big);
  assert.ok((await out).equals(big));

  assert.ok((await connection.ping()) >= 0);

  // The client resets the error stream: the server sees RST_STREAM(CANCEL).
  const reset = once(serverError, "reset");
  errorStream.reset();
  assert.deepEqual(await reset, [RstStatus.Cancel]);

  await connection.close();
  await Promise.all([serverStdin, serverStdout, serverError].map(whenClosed));
});

test("a stream the server refuses fails waitForReply", async () => {
  const { connection } = await dialSpdy(`${base}/exec/token`, { protocols: [StreamProtocol.V4] });
  const stream = connection.openStream({ streamType: "refuse-me" });
  await assert.rejects(stream.waitForReply(), /reset \(status 3\)/);
  await connection.close();
});

test("port-forward protocol list is separate", async () => {
  const { connection, protocol } = await dialSpdy(`${base}/portforward/token`, { protocols: ["portforward.k8s.io"] });
  assert.equal(protocol, "portforward.k8s.io");
  const data = connection.openStream({ streamType: "data", port: "8080", requestID: "0" });
  await data.waitForReply();
  const s = await nextServerStream();
  assert.deepEqual([headerValue(s.headers, "port"), headerValue(s.headers, "requestid")], ["8080", "0"]);
  await connection.close();
});

test("no common version: 403 listing what the server accepts", async () => {
  const err = await dialSpdy(`${base}/exec/token`, { protocols: ["v9.channel.k8s.io"] }).catch((e: unknown) => e);
  assert.ok(err instanceof SpdyUpgradeError);
  assert.equal(err.status, 403);
  assert.deepEqual(err.acceptedProtocols, [...SUPPORTED_STREAM_PROTOCOLS]);
  assert.match(err.body, /unable to negotiate protocol: client supports \[v9.channel.k8s.io\], server accepts \[v4.channel.k8s.io v3/);
});

test("no X-Stream-Protocol-Version: 400", async () => {
  const err = await dialSpdy(`${base}/exec/token`, { protocols: [] }).catch((e: unknown) => e);
  assert.ok(err instanceof SpdyUpgradeError);
  assert.equal(err.status, 400);
  assert.match(err.body, /X-Stream-Protocol-Version is required/);
});

test("a plain request (no upgrade headers) with a valid version: 400", async () => {
  const res = await fetch(`${base}/exec/token`, { method: "POST", headers: { "X-Stream-Protocol-Version": "v4.channel.k8s.io" } });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /missing upgrade headers/);
});

test("handshake decisions (pure)", () => {
  const upgrade = { connection: "keep-alive, Upgrade", upgrade: "SPDY/3.1" };
  assert.deepEqual(checkSpdyHandshake({ ...upgrade, "x-stream-protocol-version": "v2.channel.k8s.io, channel.k8s.io" }, SUPPORTED_STREAM_PROTOCOLS), {
    ok: true,
    protocol: "v2.channel.k8s.io",
  });
  assert.equal(checkSpdyHandshake({ "x-stream-protocol-version": "v4.channel.k8s.io", upgrade: "websocket", connection: "upgrade" }, SUPPORTED_STREAM_PROTOCOLS).ok, false);
  assert.deepEqual(headerList(["a, b", " ,c"]), ["a", "b", "c"]);
  assert.equal(negotiateProtocol(["x", "b", "a"], ["a", "b"]), "b");
  assert.equal(negotiateProtocol(["x"], ["a"]), undefined);
});

test("writeHttpError writes a complete response", async () => {
  const { PassThrough } = await import("node:stream");
  const sink = new PassThrough();
  writeHttpError(sink, 404, "not found", { "X-Extra": ["1", "2"] });
  const text = (await readAll(sink)).toString();
  assert.match(text, /^HTTP\/1.1 404 Not Found\r\n/);
  assert.match(text, /X-Extra: 1\r\nX-Extra: 2\r\n/);
  assert.match(text, /Content-Length: 10\r\n/);
  assert.ok(text.endsWith("\r\n\r\nnot found\n"));
});

test("client-go's stream order for exec (tty: no stderr, resize from v3) and port-forward", async () => {
  const { connection, protocol } = await dialSpdy(`${base}/exec/token`, { protocols: [StreamProtocol.V4] });
  serverStreams.length = 0;
  const streams = await openRemoteCommandStreams(connection, { stdin: true, stdout: true, stderr: true, tty: true, protocol });
  assert.deepEqual(Object.keys(streams), ["error", "stdin", "stdout", "resize"]);
  const types = [];
  for (let i = 0; i < 4; i++) types.push(headerValue((await nextServerStream()).headers, "streamtype"));
  assert.deepEqual(types, ["error", "stdin", "stdout", "resize"]);
  const v2 = await openRemoteCommandStreams(connection, { stdin: false, stdout: true, stderr: true, tty: true, protocol: StreamProtocol.V2 });
  assert.deepEqual(Object.keys(v2), ["error", "stdout"]);
  await connection.close();

  const pf = await dialSpdy(`${base}/portforward/token`, { protocols: ["portforward.k8s.io"] });
  serverStreams.length = 0;
  const pair = await openPortForwardStreams(pf.connection, 8080, 7);
  const [serverError, serverData] = [await nextServerStream(), await nextServerStream()];
  assert.deepEqual(
    [serverError, serverData].map((s) => [headerValue(s.headers, "streamtype"), headerValue(s.headers, "port"), headerValue(s.headers, "requestid")]),
    [["error", "8080", "7"], ["data", "8080", "7"]],
  );
  assert.equal((await readAll(serverError)).length, 0, "the client closed its side of the error stream");
  assert.ok(pair.data.writable);
  await pf.connection.close();
});
