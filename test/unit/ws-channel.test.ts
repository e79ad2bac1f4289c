import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Channel,
  ChannelProtocolError,
  PORT_FORWARD_WS_PROTOCOLS,
  REMOTE_COMMAND_WS_PROTOCOLS,
  WsProtocol,
  channelProtocolConfig,
  decodeChannelMessage,
  encodeChannelMessage,
  encodeCloseSignal,
  portPrefix,
} from "../../src/streaming/websocket/channel.js";
import { isWebSocketRequest, selectWebSocketProtocol } from "../../src/streaming/websocket/upgrade.js";

const binary = channelProtocolConfig(WsProtocol.V4);
const v5 = channelProtocolConfig(WsProtocol.V5);
const base64 = channelProtocolConfig(WsProtocol.V4Base64);

test("binary framing: channel byte then payload", () => {
  assert.deepEqual(encodeChannelMessage(Channel.Stdin, Buffer.from("foo\n"), "binary"), Buffer.from([0, 102, 111, 111, 10]));
  assert.deepEqual(decodeChannelMessage(Buffer.from([1, 10]), binary), { kind: "data", channel: 1, data: Buffer.from([10]) });
  assert.deepEqual(encodeChannelMessage(Channel.Stdout, Buffer.alloc(0), "binary"), Buffer.from([1]));
});

test("base64 framing: channel digit then base64 (apimachinery's documented example)", () => {
  assert.equal(encodeChannelMessage(Channel.Stdout, Buffer.from("\n"), "base64"), "1Cg==");
  assert.deepEqual(decodeChannelMessage(Buffer.from("0Zm9vCg=="), base64), { kind: "data", channel: 0, data: Buffer.from("foo\n") });
  assert.throws(
    () => decodeChannelMessage(Buffer.from("0not base64!"), base64),
    (e: unknown) => e instanceof ChannelProtocolError && !e.fatal,
  );
});

test("v5 close signal: [255, channel], only in v5", () => {
  assert.deepEqual(encodeCloseSignal(Channel.Stdin), Buffer.from([255, 0]));
  assert.deepEqual(decodeChannelMessage(Buffer.from([255, 0]), v5), { kind: "close", channel: 0 });
  assert.deepEqual(decodeChannelMessage(Buffer.from([255, 0]), binary), { kind: "data", channel: 255, data: Buffer.from([0]) });
  assert.throws(() => decodeChannelMessage(Buffer.from([255, 0, 1]), v5), (e: unknown) => e instanceof ChannelProtocolError && e.fatal);
  assert.throws(() => decodeChannelMessage(Buffer.from([255]), v5), ChannelProtocolError);
});

test("empty messages are skipped", () => {
  assert.equal(decodeChannelMessage(Buffer.alloc(0), binary), undefined);
});

test("protocol configs", () => {
  const table: Array<[string, ReturnType<typeof channelProtocolConfig>]> = [
    [WsProtocol.V5, { codec: "binary", closeSignal: true, statusErrorChannel: true }],
    [WsProtocol.V4, { codec: "binary", closeSignal: false, statusErrorChannel: true }],
    [WsProtocol.V4Base64, { codec: "base64", closeSignal: false, statusErrorChannel: true }],
    [WsProtocol.Channel, { codec: "binary", closeSignal: false, statusErrorChannel: false }],
    [WsProtocol.Base64Channel, { codec: "base64", closeSignal: false, statusErrorChannel: false }],
    [WsProtocol.None, { codec: "binary", closeSignal: false, statusErrorChannel: false }],
  ];
  for (const [protocol, config] of table) assert.deepEqual(channelProtocolConfig(protocol), config, protocol);
});

test("port prefix is little-endian uint16", () => {
  assert.deepEqual(portPrefix(8080), Buffer.from([0x90, 0x1f]));
  assert.deepEqual(portPrefix(80), Buffer.from([80, 0]));
});

test("subprotocol selection: client order, '' only when nothing was requested", () => {
  assert.equal(selectWebSocketProtocol(["v5.channel.k8s.io", "v4.channel.k8s.io"], REMOTE_COMMAND_WS_PROTOCOLS), "v5.channel.k8s.io");
  assert.equal(selectWebSocketProtocol(["v9", "base64.channel.k8s.io"], REMOTE_COMMAND_WS_PROTOCOLS), "base64.channel.k8s.io");
  assert.equal(selectWebSocketProtocol([], REMOTE_COMMAND_WS_PROTOCOLS), "");
  assert.equal(selectWebSocketProtocol(["v9"], REMOTE_COMMAND_WS_PROTOCOLS), undefined);
  assert.equal(selectWebSocketProtocol([], ["SPDY/3.1+portforward.k8s.io"]), undefined);
  assert.equal(selectWebSocketProtocol(["portforward.k8s.io"], PORT_FORWARD_WS_PROTOCOLS), "portforward.k8s.io");
});

test("isWebSocketRequest", () => {
  assert.equal(isWebSocketRequest({ upgrade: "WebSocket", connection: "keep-alive, Upgrade" }), true);
  assert.equal(isWebSocketRequest({ upgrade: "SPDY/3.1", connection: "Upgrade" }), false);
  assert.equal(isWebSocketRequest({ upgrade: "websocket" }), false);
});
