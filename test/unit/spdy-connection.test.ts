// SpdyConnection against our own client role and against hand-driven peers, over real TCP
// sockets on 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { SpdyConnection } from "../../src/streaming/spdy/connection.js";
import { FLAG_FIN, GoAwayStatus, RstStatus, SettingsId } from "../../src/streaming/spdy/frames.js";
import { headerValue } from "../../src/streaming/spdy/header-compression.js";
import { SpdyProtocolError } from "../../src/streaming/spdy/errors.js";
import type { SpdyStream } from "../../src/streaming/spdy/stream.js";
import { RawPeer, readAll, sleep, socketPair, whenClosed } from "./spdy-helpers.js";

async function pair(serverOpts = {}, clientOpts = {}) {
  const sockets = await socketPair();
  const server = new SpdyConnection(sockets.server, { role: "server", ...serverOpts });
  const client = new SpdyConnection(sockets.client, { role: "client", ...clientOpts });
  const streams: SpdyStream[] = [];
  server.on("stream", (s: SpdyStream) => {
    streams.push(s);
    s.accept();
  });
  const nextServerStream = async () => {
    while (streams.length === 0) await sleep(5);
    return streams.shift()!;
  };
  return { server, client, nextServerStream, close: sockets.close };
}

test("client opens typed streams, data flows both ways, FIN closes both halves", async () => {
  const { server, client, nextServerStream, close } = await pair();
  try {
    const clientStream = client.openStream({ streamType: "stdout", port: "80" });
    const serverStream = await nextServerStream();
    assert.equal(serverStream.id, 1);
    assert.equal(headerValue(serverStream.headers, "streamtype"), "stdout");
    assert.equal(headerValue(serverStream.headers, "port"), "80");
    await clientStream.waitForReply();

    const toServer = readAll(serverStream);
    const toClient = readAll(clientStream);
    clientStream.end("hello from the client");
    serverStream.end("hello from the server");
    assert.equal((await toServer).toString(), "hello from the client");
    assert.equal((await toClient).toString(), "hello from the server");
    await Promise.all([whenClosed(clientStream), whenClosed(serverStream)]);
    assert.equal(server.activeStreams, 0);
    assert.equal(client.activeStreams, 0);

    const second = client.openStream({ streamType: "stderr" });
    assert.equal(second.id, 3);
    assert.equal((await nextServerStream()).id, 3);
  } finally {
    close();
  }
});

test("PING is echoed in both directions", async () => {
  const { server, client, close } = await pair();
  try {
    assert.ok((await client.ping()) >= 0);
    assert.ok((await server.ping()) >= 0);
  } finally {
    close();
  }
});

test("RST_STREAM from the client resets the server's stream", async () => {
  const { client, nextServerStream, close } = await pair();
  try {
    const clientStream = client.openStream({ streamType: "stdin" });
    const serverStream = await nextServerStream();
    await clientStream.waitForReply();
    const reset = once(serverStream, "reset");
    clientStream.reset();
    assert.deepEqual(await reset, [RstStatus.Cancel]);
    assert.ok(serverStream.destroyed);
    assert.equal(serverStream.resetStatus, RstStatus.Cancel);
  } finally {
    close();
  }
});

test("a refused stream reaches the client as a reset", async () => {
  const sockets = await socketPair();
  const server = new SpdyConnection(sockets.server, { role: "server" });
  server.on("stream", (s: SpdyStream) => s.reset(RstStatus.RefusedStream));
  const client = new SpdyConnection(sockets.client, { role: "client" });
  try {
    const stream = client.openStream({ streamType: "bogus" });
    assert.deepEqual(await once(stream, "reset"), [RstStatus.RefusedStream]);
  } finally {
    sockets.close();
  }
});

test("flow control: a peer that keeps windows is never sent more than it granted", async () => {
  const { client, nextServerStream, close } = await pair();
  try {
    const clientStream = client.openStream({ streamType: "stdout" });
    const serverStream = await nextServerStream();
    await clientStream.waitForReply();
    const payload = Buffer.alloc(1024 * 1024, 0x78);
    serverStream.end(payload);
    await sleep(200);
    // Nobody reads on the client: at most one window (64 KiB) may be in its buffer.
    assert.ok(clientStream.readableLength <= 64 * 1024, `buffered ${clientStream.readableLength}`);
    assert.ok(clientStream.readableLength > 0);
    const received = await readAll(clientStream);
    assert.equal(received.length, payload.length);
  } finally {
    close();
  }
});

test("flow control: spdystream-like peers (no WINDOW_UPDATE ever) are not stalled", async () => {
  const sockets = await socketPair();
  const server = new SpdyConnection(sockets.server, { role: "server" });
  server.on("stream", async (s: SpdyStream) => {
    s.accept();
    s.end(Buffer.alloc(300_000, 0x61));
  });
  const peer = new RawPeer(sockets.client);
  try {
    peer.synStream(1, { streamtype: "stdout" });
    await peer.waitFor((f) => f.type === "DATA" && (f.flags & FLAG_FIN) !== 0);
    assert.equal(peer.dataBytes(1), 300_000);
    // The server announced its own window, credited nothing it did not receive.
    const settings = peer.frames.find((f) => f.type === "SETTINGS");
    assert.deepEqual(settings && "entries" in settings ? settings.entries : [], [{ flags: 0, id: SettingsId.InitialWindowSize, value: 65536 }]);
  } finally {
    sockets.close();
  }
});

test("receive backpressure: a window-ignoring peer is paused when the consumer does not read", async () => {
  const sockets = await socketPair();
  const server = new SpdyConnection(sockets.server, { role: "server", maxBufferedBytesPerStream: 128 * 1024 });
  let serverStream: SpdyStream | undefined;
  server.on("stream", (s: SpdyStream) => {
    s.accept();
    serverStream = s;
  });
  const peer = new RawPeer(sockets.client);
  try {
    peer.synStream(1, { streamtype: "stdin" });
    await peer.waitFor((f) => f.type === "SYN_REPLY");
    const chunk = Buffer.alloc(32 * 1024, 0x62);
    for (let i = 0; i < 64; i++) peer.send({ type: "DATA", streamId: 1, flags: 0, data: chunk }); // 2 MiB
    await sleep(300);
    assert.ok(sockets.server.isPaused(), "transport paused");
    const buffered = serverStream!.readableLength;
    assert.ok(buffered >= 128 * 1024 && buffered < 1024 * 1024, `buffered ${buffered}`);
    // No credit for bytes nobody read.
    assert.equal(peer.frames.filter((f) => f.type === "WINDOW_UPDATE").length, 0);
    peer.send({ type: "DATA", streamId: 1, flags: FLAG_FIN, data: Buffer.alloc(0) });
    const all = await readAll(serverStream!);
    assert.equal(all.length, 64 * 32 * 1024);
    const credited = peer.frames.filter((f) => f.type === "WINDOW_UPDATE" && f.streamId === 1);
    assert.ok(credited.length > 0, "reading returns credit to the peer");
  } finally {
    sockets.close();
  }
});

test("stream ids: an even (server-side) id from the client is reset, the session lives on", async () => {
  const sockets = await socketPair();
  const server = new SpdyConnection(sockets.server, { role: "server" });
  server.on("stream", (s: SpdyStream) => s.accept());
  const peer = new RawPeer(sockets.client);
  try {
    peer.synStream(2, { streamtype: "stdout" });
    const rst = await peer.waitFor((f) => f.type === "RST_STREAM");
    assert.deepEqual({ ...rst }, { type: "RST_STREAM", streamId: 2, status: RstStatus.ProtocolError });
    peer.synStream(1, { streamtype: "stdout" });
    await peer.waitFor((f) => f.type === "SYN_REPLY" && f.streamId === 1);
    peer.synStream(1, { streamtype: "stdout" }); // reused id
    await peer.waitFor((f) => f.type === "RST_STREAM" && f.streamId === 1);
  } finally {
    sockets.close();
  }
});

test("streams arriving with no listener, or after GOAWAY, are refused", async () => {
  const sockets = await socketPair();
  new SpdyConnection(sockets.server, { role: "server" });
  const peer = new RawPeer(sockets.client);
  try {
    peer.synStream(1, { streamtype: "stdout" });
    const rst = await peer.waitFor((f) => f.type === "RST_STREAM");
    assert.equal((rst as { status: number }).status, RstStatus.RefusedStream);
  } finally {
    sockets.close();
  }
});

test("GOAWAY from the client: the server finishes its streams, then closes", async () => {
  const { server, client, nextServerStream, close } = await pair();
  try {
    const clientStream = client.openStream({ streamType: "stdout" });
    const serverStream = await nextServerStream();
    await clientStream.waitForReply();
    const closed = once(server, "close");
    const goaway = once(server, "goaway");
    await client.close(); // GOAWAY, reset of the unfinished stream, transport end
    assert.deepEqual((await goaway)[0], { lastGoodStreamId: 0, status: GoAwayStatus.Ok });
    await closed;
    assert.ok(serverStream.destroyed);
  } finally {
    close();
  }
});

test("idle timeout closes the session", async () => {
  const { server, close } = await pair({ idleTimeoutMs: 100 });
  try {
    await once(server, "close");
    assert.ok(server.isClosed);
  } finally {
    close();
  }
});

async function expectProtocolClose(bytes: Buffer, message: RegExp) {
  const sockets = await socketPair();
  const server = new SpdyConnection(sockets.server, { role: "server" });
  server.on("stream", (s: SpdyStream) => s.accept());
  const peer = new RawPeer(sockets.client);
  const closed = once(server, "close");
  peer.sendRaw(bytes);
  const [err] = (await closed) as [Error];
  assert.ok(err instanceof SpdyProtocolError, `closed with ${err}`);
  assert.match(err.message, message);
  const goaway = await peer.waitFor((f) => f.type === "GOAWAY");
  assert.equal((goaway as { status: number }).status, GoAwayStatus.ProtocolError);
  await peer.waitClosed();
  sockets.close();
}

const hex = (s: string) => Buffer.from(s.replace(/[\s|]/g, ""), "hex");

test("malformed: wrong version closes the session with GOAWAY(PROTOCOL_ERROR)", () =>
  expectProtocolClose(hex("8002 0006 | 00 000004 | 00000001"), /unsupported SPDY version/));

test("malformed: bad fixed length closes the session", () =>
  expectProtocolClose(hex("8003 0009 | 00 000004 | 00000001"), /WINDOW_UPDATE frame with length 4/));

test("malformed: oversized control frame closes the session before it is buffered", () =>
  expectProtocolClose(hex("8003 0001 | 00 fffff0"), /exceeds the limit/));

test("malformed: header block that is not zlib closes the session", () =>
  expectProtocolClose(hex("8003 0001 | 00 000012 | 00000001 | 00000000 | 0000 | 0102030405060708"), /zlib header/));

test("malformed: a small header block inflating past 1 MiB closes the session", async () => {
  const zlib = await import("node:zlib");
  const { SPDY3_DICTIONARY } = await import("../../src/streaming/spdy/dictionary.js");
  const { encodeHeaderBlock, toSpdyHeaders } = await import("../../src/streaming/spdy/header-compression.js");
  const { encodeFrame } = await import("../../src/streaming/spdy/frames.js");
  const plain = encodeHeaderBlock(toSpdyHeaders({ bomb: "z".repeat(8 * 1024 * 1024) }));
  const block = Buffer.concat([
    hex("78f9 e3c6a7c2"),
    zlib.deflateRawSync(plain, { level: 9, dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  ]);
  const frame = encodeFrame({ type: "SYN_STREAM", streamId: 1, associatedToStreamId: 0, priority: 0, slot: 0, flags: 0, headerBlock: block });
  await expectProtocolClose(frame, /more than 1048576 bytes/);
});

test("unknown control frame types are ignored: the session keeps working", async () => {
  const sockets = await socketPair();
  new SpdyConnection(sockets.server, { role: "server" });
  const peer = new RawPeer(sockets.client);
  try {
    peer.sendRaw(hex("8003 000a | 00 000003 | 010203")); // CREDENTIAL
    peer.sendRaw(hex("8003 0005 | 00 000000")); // SPDY/2 NOOP
    peer.send({ type: "PING", id: 7 });
    const pong = await peer.waitFor((f) => f.type === "PING");
    assert.equal((pong as { id: number }).id, 7);
  } finally {
    sockets.close();
  }
});

test("random garbage never throws out of the connection", async () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let round = 0; round < 30; round++) {
    const sockets = await socketPair();
    const server = new SpdyConnection(sockets.server, { role: "server" });
    server.on("stream", (s: SpdyStream) => {
      s.accept();
      s.resume();
    });
    const closed = once(server, "close");
    const bytes = Buffer.alloc(64 + Math.floor(random() * 2000));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
    if (round % 2 === 0) bytes.writeUInt16BE(0x8003, 0); // look like a control frame
    sockets.client.on("error", () => {});
    sockets.client.end(bytes);
    await closed;
    sockets.close();
  }
});

test("close(): GOAWAY, unfinished streams reset, streams whose FIN went out left alone", async () => {
  const sockets = await socketPair();
  const server = new SpdyConnection(sockets.server, { role: "server" });
  const accepted: SpdyStream[] = [];
  server.on("stream", (s: SpdyStream) => {
    s.accept();
    accepted.push(s);
  });
  const peer = new RawPeer(sockets.client);
  try {
    peer.synStream(1, { streamtype: "stdout" });
    peer.synStream(3, { streamtype: "stdin" });
    await peer.waitFor((f) => f.type === "SYN_REPLY" && f.streamId === 3);
    accepted[0]!.end("bye"); // FIN on stream 1
    await peer.waitFor((f) => f.type === "DATA" && f.streamId === 1 && (f.flags & FLAG_FIN) !== 0);
    await server.close();
    await peer.waitClosed();
    const goaway = peer.frames.find((f) => f.type === "GOAWAY");
    assert.deepEqual(goaway && { ...goaway }, { type: "GOAWAY", lastGoodStreamId: 3, status: GoAwayStatus.Ok });
    const resets = peer.frames.filter((f) => f.type === "RST_STREAM").map((f) => (f as { streamId: number }).streamId);
    assert.deepEqual(resets, [3]);
  } finally {
    sockets.close();
  }
});
