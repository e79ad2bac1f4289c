// crib's own WebSocket clients for tests and benchmarks: exec/attach the way client-go's
// v5 executor does it (crictl --transport websocket), kubelet-style channel port-forward,
// and SPDY tunnelled in WebSocket (client-go's NewSPDYOverWebsocketDialer).
import type { Readable, Writable } from "node:stream";
import { WebSocket } from "ws";
import type { SpdyConnectionOptions } from "../../src/streaming/spdy/connection.js";
import type { SpdyClientSession } from "./spdy-client.js";
import { WEBSOCKET_SPDY_TUNNELING_PREFIX, PORT_FORWARD_PROTOCOL_V1 } from "../../src/streaming/remotecommand/constants.js";
import { Channel, WsProtocol } from "../../src/streaming/websocket/channel.js";
import { WebSocketChannels } from "../../src/streaming/websocket/channel-connection.js";
import { WebSocketUpgradeError } from "../../src/streaming/websocket/errors.js";
import { dialRawWebSocket } from "./raw-websocket-client.js";
import { SpdyConnection } from "../../src/streaming/spdy/connection.js";

export { WebSocketUpgradeError };

/**
 * Opens a WebSocket; `setup` runs synchronously on 'open', before any message can be
 * delivered (messages that arrive with the handshake are emitted ahead of promise callbacks).
 */
export function dialWebSocket<T = WebSocket>(
  url: string | URL,
  protocols: readonly string[],
  setup: (ws: WebSocket) => T = (ws) => ws as T,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [...protocols], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    ws.once("open", () => {
      try {
        resolve(setup(ws));
      } catch (err) {
        ws.terminate();
        reject(err);
      }
    });
    ws.on("error", reject); // after open, a no-op that keeps a late error from being unhandled
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => reject(new WebSocketUpgradeError(res.statusCode ?? 0, Buffer.concat(chunks).toString())));
      res.on("error", reject);
    });
  });
}

export interface RemoteCommandClient {
  protocol: string;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** The final Status (v4/v5 JSON), read to EOF when the server closes. */
  error: Readable;
  resize: Writable;
  channels: WebSocketChannels;
}

/** Client end of exec/attach over WebSocket; stdin.end() sends the v5 close signal. */
export function dialRemoteCommand(url: string | URL, protocols: readonly string[] = [WsProtocol.V5]): Promise<RemoteCommandClient> {
  return dialWebSocket(url, protocols, (ws) => remoteCommandClient(ws));
}

function remoteCommandClient(ws: WebSocket): RemoteCommandClient {
  const channels = new WebSocketChannels(ws, {
    protocol: ws.protocol,
    sendCloseSignalOnEnd: ws.protocol === WsProtocol.V5,
    channels: [
      { readable: false, writable: true },
      { readable: true, writable: false },
      { readable: true, writable: false },
      { readable: true, writable: false },
      { readable: false, writable: true },
    ],
  });
  return {
    protocol: ws.protocol,
    stdin: channels.channel(Channel.Stdin),
    stdout: channels.channel(Channel.Stdout),
    stderr: channels.channel(Channel.Stderr),
    error: channels.channel(Channel.Error),
    resize: channels.channel(Channel.Resize),
    channels,
  };
}

/** Client end of kubelet's channel-per-port port-forward: data 2i, error 2i+1 per port. */
export function dialPortForwardChannels(
  url: string | URL,
  portCount: number,
  protocols: readonly string[] = [WsProtocol.V4],
): Promise<WebSocketChannels> {
  const specs = Array.from({ length: portCount }, () => [
    { readable: true, writable: true },
    { readable: true, writable: false },
  ]).flat();
  return dialWebSocket(url, protocols, (ws) => new WebSocketChannels(ws, { protocol: ws.protocol, channels: specs }));
}

/**
 * SPDY over WebSocket as client-go's NewSPDYOverWebsocketDialer does it: subprotocols
 * prefixed "SPDY/3.1+", SPDY frames in binary messages, no HTTP upgrade inside.
 */
export async function dialSpdyOverWebSocket(
  url: string | URL,
  protocols: readonly string[] = [PORT_FORWARD_PROTOCOL_V1],
  options: Omit<SpdyConnectionOptions, "role"> = {},
): Promise<SpdyClientSession> {
  const prefix = WEBSOCKET_SPDY_TUNNELING_PREFIX;
  const { stream, protocol } = await dialRawWebSocket(url, protocols.map((p) => prefix + p));
  return {
    connection: new SpdyConnection(stream, { ...options, role: "client" }),
    protocol: protocol.startsWith(prefix) ? protocol.slice(prefix.length) : protocol,
  };
}
