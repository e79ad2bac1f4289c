// WebSocket exec/attach, port-forward and SPDY-in-WebSocket over 127.0.0.1 with a real
// ws server and crib's clients.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocket } from "ws";
import { WebSocketAcceptor } from "../../src/streaming/websocket/upgrade.js";
import { PORT_FORWARD_WS_PROTOCOLS, REMOTE_COMMAND_WS_PROTOCOLS, WsProtocol } from "../../src/streaming/websocket/channel.js";
import { openRemoteCommandChannels } from "../../src/streaming/websocket/remote-command.js";
import { openPortForwardChannels } from "../../src/streaming/websocket/port-forward.js";
import { spdyOverWebSocket } from "../../src/streaming/websocket/spdy-tunnel.js";
import {
  WebSocketUpgradeError,
  dialPortForwardChannels,
  dialRemoteCommand,
  dialSpdyOverWebSocket,
  dialWebSocket,
} from "../client/websocket-client.js";
import { ResizeEventDecoder, encodeResizeEvent } from "../../src/streaming/remotecommand/resize.js";
import { decodeStatus, nonZeroExitStatus, successStatus } from "../../src/streaming/remotecommand/status.js";
import { headerValue } from "../../src/streaming/spdy/header-compression.js";
import type { SpdyStream } from "../../src/streaming/spdy/stream.js";
import { readAll, sleep } from "./spdy-helpers.js";

const acceptor = new WebSocketAcceptor();
const sockets = new Set<WebSocket>();
let lastServerStdout: NodeJS.WritableStream | undefined;

/** A pretend process: stdin upper-cased to stdout, a line on stderr, exit code from the query. */
async function serveExec(ws: WebSocket, protocol: string, query: URLSearchParams): Promise<void> {
  const tty = query.get("tty") === "1";
  const io = openRemoteCommandChannels(ws, protocol, { stdin: true, stdout: true, stderr: true, tty });
  lastServerStdout = io.stdout;
  const exit = Number(query.get("exit") ?? "0");
  const finish = async () => {
    await io.writeStatus(exit === 0 ? successStatus() : nonZeroExitStatus(exit, `exit ${exit}`));
    io.close();
  };
  if (query.get("flood")) {
    io.stdout!.write(Buffer.alloc(Number(query.get("flood")), 0x2e));
    return;
  }
  if (tty) {
    const decoder = new ResizeEventDecoder();
    io.resize!.on("data", (d: Buffer) => {
      for (const size of decoder.push(d)) io.stdout!.write(`${size.width}x${size.height}\n`);
    });
  } else {
    io.stderr!.write("err-line\n");
  }
  if (query.get("wait") === "stdin") {
    io.stdin!.on("data", (d: Buffer) => io.stdout!.write(d.toString().toUpperCase()));
    io.stdin!.on("end", () => void finish());
  } else {
    io.stdout!.write("done\n");
    await finish();
  }
}

function servePortForward(ws: WebSocket, protocol: string, ports: number[]): void {
  const pf = openPortForwardChannels(ws, protocol, ports);
  for (const pair of pf.pairs) {
    if (pair.port === 9999) {
      pair.error.write("error forwarding port 9999: connection refused");
      continue;
    }
    pair.data.on("data", (d: Buffer) => pair.data.write(`${pair.port}:${d.toString()}`));
  }
}

function serveSpdyTunnel(ws: WebSocket): void {
  const conn = spdyOverWebSocket(ws, { role: "server" });
  conn.on("stream", (s: SpdyStream) => {
    s.accept();
    if (headerValue(s.headers, "streamtype") === "data") s.pipe(s);
  });
}

const server = http.createServer((_req, res) => res.writeHead(400).end());
server.on("upgrade", async (req: http.IncomingMessage, socket, head: Buffer) => {
  const url = new URL(req.url ?? "/", "http://x");
  const allowed = url.pathname === "/exec" ? REMOTE_COMMAND_WS_PROTOCOLS : url.pathname === "/portforward" ? PORT_FORWARD_WS_PROTOCOLS : [WsProtocol.SpdyPortForward];
  await acceptor.accept(req, socket, head, allowed, (ws, protocol) => {
    sockets.add(ws);
    if (url.pathname === "/exec") void serveExec(ws, protocol, url.searchParams);
    else if (url.pathname === "/portforward") servePortForward(ws, protocol, url.searchParams.getAll("port").map(Number));
    else serveSpdyTunnel(ws);
  });
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  for (const ws of sockets) ws.terminate();
  acceptor.close();
  server.close();
});

/** Every message a plain ws client receives until the server closes. */
async function rawSession(url: string, protocols: string[]): Promise<{ protocol: string; messages: Array<Buffer | string>; code: number }> {
  const messages: Array<Buffer | string> = [];
  const ws = await dialWebSocket(url, protocols, (ws) => {
    ws.on("message", (data: Buffer, isBinary: boolean) => messages.push(isBinary ? data : data.toString()));
    return ws;
  });
  const [code] = (await once(ws, "close")) as [number];
  return { protocol: ws.protocol, messages, code };
}

test("v5 exec (crictl --transport websocket): stdin close signal, output, exit Status, normal closure", async () => {
  const io = await dialRemoteCommand(`${base}/exec?wait=stdin&exit=3`);
  assert.equal(io.protocol, WsProtocol.V5);
  const [stdout, stderr, error] = [readAll(io.stdout), readAll(io.stderr), readAll(io.error)];
  io.stdin.write("hello ");
  io.stdin.end("websocket"); // sends [255, 0]
  assert.equal((await stdout).toString(), "HELLO WEBSOCKET");
  assert.equal((await stderr).toString(), "err-line\n");
  assert.deepEqual(decodeStatus((await error).toString()), { exitCode: 3 });
  assert.equal(await io.channels.whenClosed(), 1000);
});

test("the session starts with an empty message on stdout, the status ends it", async () => {
  const s = await rawSession(`${base}/exec?exit=0`, [WsProtocol.V4]);
  assert.equal(s.protocol, WsProtocol.V4);
  assert.deepEqual(s.messages, [
    Buffer.from([1]),
    Buffer.from("\x02err-line\n"),
    Buffer.from("\x01done\n"),
    Buffer.concat([Buffer.from([3]), Buffer.from('{"metadata":{},"status":"Success"}')]),
  ]);
  assert.equal(s.code, 1000);
});

test("base64 protocol: text frames with the channel digit", async () => {
  const s = await rawSession(`${base}/exec?exit=1`, [WsProtocol.V4Base64]);
  assert.equal(s.protocol, WsProtocol.V4Base64);
  assert.equal(s.messages[0], "1");
  assert.equal(s.messages[1], "2" + Buffer.from("err-line\n").toString("base64"));
  const status = Buffer.from((s.messages[3] as string).slice(1), "base64").toString();
  assert.deepEqual(decodeStatus(status), { exitCode: 1 });
});

test("no subprotocol: binary channels, pre-v4 error stream (text, only on failure)", async () => {
  const ok = await rawSession(`${base}/exec?exit=0`, []);
  assert.equal(ok.protocol, "");
  assert.equal(ok.messages.length, 3, "nothing on the error channel on success");
  const failed = await rawSession(`${base}/exec?exit=2`, []);
  assert.deepEqual(failed.messages[3], Buffer.from("\x03command terminated with non-zero exit code: exit 2"));
});

test("an unknown subprotocol is refused with 403", async () => {
  const err = await dialWebSocket(`${base}/exec`, ["v9.channel.k8s.io"]).catch((e: unknown) => e);
  assert.ok(err instanceof WebSocketUpgradeError);
  assert.equal(err.status, 403);
  assert.match(err.body, /requested protocol\(s\) are not supported: \[v9.channel.k8s.io\]/);
});

test("tty: resize events on channel 4 reach the server", async () => {
  const io = await dialRemoteCommand(`${base}/exec?tty=1&wait=stdin`);
  const stdout = readAll(io.stdout);
  const event = encodeResizeEvent({ width: 132, height: 43 });
  io.resize.write(event.subarray(0, 5));
  io.resize.write(event.subarray(5));
  io.resize.write(encodeResizeEvent({ width: 80, height: 24 }));
  await sleep(50);
  io.stdin.end();
  assert.equal((await stdout).toString(), "132x43\n80x24\n");
});

test("backpressure: a client that does not read pauses the socket; memory stays bounded", async () => {
  const io = await dialRemoteCommand(`${base}/exec?flood=${8 * 1024 * 1024}`);
  await sleep(300);
  assert.ok(io.channels.ws.isPaused, "client paused its socket");
  assert.ok(io.stdout.readableLength < 2 * 1024 * 1024, `client buffered ${io.stdout.readableLength}`);
  assert.ok((lastServerStdout as NodeJS.WritableStream & { writableLength: number }).writableLength > 0, "server writes are held back");
  const all = await Promise.race([
    (async () => {
      let n = 0;
      for await (const chunk of io.stdout) {
        n += (chunk as Buffer).length;
        if (n >= 8 * 1024 * 1024) break;
      }
      return n;
    })(),
    new Promise<number>((resolve) => setTimeout(() => resolve(-1), 10_000).unref()),
  ]);
  assert.equal(all, 8 * 1024 * 1024);
  io.channels.close();
});

test("port-forward channels: port prefix on data and error, per-port data, errors on the port's channel", async () => {
  const channels = await dialPortForwardChannels(`${base}/portforward?port=8080&port=9999`, 2);
  assert.equal(channels.ws.protocol, WsProtocol.V4);
  const data = channels.channel(0);
  const dataError = channels.channel(1);
  const badError = channels.channel(3);
  const firstBytes = (s: NodeJS.ReadableStream, n: number) =>
    new Promise<Buffer>((resolve) => {
      let acc = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        acc = Buffer.concat([acc, d]);
        if (acc.length >= n) {
          s.off("data", onData);
          s.pause();
          resolve(acc);
        }
      };
      s.on("data", onData);
    });
  assert.deepEqual(await firstBytes(dataError, 2), Buffer.from([0x90, 0x1f]));
  const errText = await firstBytes(badError, 2 + 46);
  assert.deepEqual(errText.subarray(0, 2), Buffer.from([0x0f, 0x27]));
  assert.equal(errText.subarray(2).toString(), "error forwarding port 9999: connection refused");
  const prefixAndEcho = firstBytes(data, 2 + "8080:ping".length);
  data.write("ping");
  const got = await prefixAndEcho;
  assert.deepEqual(got.subarray(0, 2), Buffer.from([0x90, 0x1f]));
  assert.equal(got.subarray(2).toString(), "8080:ping");
  channels.close();
});

test("SPDY tunnelled in WebSocket (SPDY/3.1+portforward.k8s.io)", async () => {
  const { connection, protocol } = await dialSpdyOverWebSocket(`${base}/spdy`);
  assert.equal(protocol, "portforward.k8s.io");
  const errorStream = connection.openStream({ streamType: "error", port: "80", requestID: "0" });
  const dataStream = connection.openStream({ streamType: "data", port: "80", requestID: "0" });
  await Promise.all([errorStream.waitForReply(), dataStream.waitForReply()]);
  const payload = Buffer.alloc(300_000, 0x41);
  const echoed = readAll(dataStream);
  dataStream.end(payload);
  assert.ok((await echoed).equals(payload));
  assert.ok((await connection.ping()) >= 0);
  await connection.close();
});

test("SPDY tunnel refuses plain channel protocols", async () => {
  const err = await dialWebSocket(`${base}/spdy`, [WsProtocol.V4]).catch((e: unknown) => e);
  assert.ok(err instanceof WebSocketUpgradeError && err.status === 403);
});

test("SPDY frames split across WebSocket messages (spdystream writes header and payload apart)", async () => {
  const { dialRawWebSocket } = await import("../client/raw-websocket-client.js");
  const { encodeFrame } = await import("../../src/streaming/spdy/frames.js");
  const { HeaderCompressor } = await import("../../src/streaming/spdy/header-compression.js");
  const { FrameReader } = await import("../../src/streaming/spdy/frame-reader.js");
  const { stream, protocol } = await dialRawWebSocket(`${base}/spdy`, [WsProtocol.SpdyPortForward]);
  assert.equal(protocol, WsProtocol.SpdyPortForward);
  const frames: string[] = [];
  const reader = new FrameReader((f) => frames.push(f.type));
  stream.on("data", (d: Buffer) => reader.push(d));
  const bytes = Buffer.concat([
    encodeFrame({ type: "SYN_STREAM", streamId: 1, associatedToStreamId: 0, priority: 0, slot: 0, flags: 0, headerBlock: new HeaderCompressor().compress({ streamtype: "error", port: "1", requestid: "0" }) }),
    encodeFrame({ type: "PING", id: 1 }),
  ]);
  for (const byte of bytes) stream.write(Buffer.from([byte])); // one message per byte
  for (let i = 0; i < 100 && !(frames.includes("SYN_REPLY") && frames.includes("PING")); i++) await sleep(10);
  assert.ok(frames.includes("SYN_REPLY") && frames.includes("PING"), `got ${frames.join(",")}`);
  stream.destroy();
});

test("v5: a malformed close signal closes the connection (1002), bad base64 is only dropped", async () => {
  const closed = await new Promise<number>((resolve, reject) => {
    dialWebSocket(`${base}/exec?wait=stdin`, [WsProtocol.V5], (ws) => {
      ws.on("close", (code: number) => resolve(code));
      ws.send(Buffer.from([255, 0, 1]));
      return ws;
    }).catch(reject);
  });
  assert.equal(closed, 1002);

  const s = await new Promise<Array<Buffer | string>>((resolve, reject) => {
    const messages: Array<Buffer | string> = [];
    dialWebSocket(`${base}/exec?wait=stdin&exit=0`, [WsProtocol.V4Base64], (ws) => {
      ws.on("message", (d: Buffer, isBinary: boolean) => messages.push(isBinary ? d : d.toString()));
      ws.on("close", () => resolve(messages));
      ws.send("0%%%not base64"); // dropped
      ws.send("0" + Buffer.from("ok").toString("base64"));
      setTimeout(() => ws.close(), 200);
      return ws;
    }).catch(reject);
  });
  assert.ok(s.includes("1" + Buffer.from("OK").toString("base64")), `got ${s.join(" | ")}`);
});
