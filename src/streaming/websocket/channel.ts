// Kubernetes channel framing over WebSocket (apimachinery wsstream): every message starts
// with one byte naming the channel (binary protocols) or the channel digit as text with a
// base64 payload (base64 protocols). For exec/attach the channels are stdin 0, stdout 1,
// stderr 2, error 3, resize 4; for port-forward, port i has data 2i and error 2i+1. v5 adds
// one control message: [255, n] from the client half-closes channel n (stdin EOF).
import { StreamProtocol, PORT_FORWARD_PROTOCOL_V1, WEBSOCKET_SPDY_PORT_FORWARD_PROTOCOL } from "../remotecommand/constants.js";

export const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4 } as const;
/** v5 stream-close signal: followed by the id of the channel to close. */
export const CLOSE_SIGNAL = 255;

export const WsProtocol = {
  V5: StreamProtocol.V5,
  V4: StreamProtocol.V4,
  V4Base64: "v4.base64.channel.k8s.io",
  Channel: StreamProtocol.V1,
  Base64Channel: "base64.channel.k8s.io",
  /** No Sec-WebSocket-Protocol at all: kubelet treats it as binary channel.k8s.io. */
  None: "",
  PortForward: PORT_FORWARD_PROTOCOL_V1,
  SpdyPortForward: WEBSOCKET_SPDY_PORT_FORWARD_PROTOCOL,
} as const;

/** Exec/attach over WebSocket: kubelet's list plus v5 (which crictl --transport websocket requires). */
export const REMOTE_COMMAND_WS_PROTOCOLS: readonly string[] = [
  WsProtocol.V5,
  WsProtocol.V4,
  WsProtocol.V4Base64,
  WsProtocol.Channel,
  WsProtocol.Base64Channel,
  WsProtocol.None,
];

/** Channel-per-port port-forward (kubelet's websocket.go), under the names it accepts. */
export const PORT_FORWARD_WS_PROTOCOLS: readonly string[] = [WsProtocol.V4, WsProtocol.V4Base64, WsProtocol.PortForward, WsProtocol.None];

export type ChannelCodec = "binary" | "base64";

export interface ChannelProtocolConfig {
  codec: ChannelCodec;
  /** v5: the client may half-close a channel with [255, n]. */
  closeSignal: boolean;
  /** v4+: the error channel carries a JSON metav1.Status rather than text. */
  statusErrorChannel: boolean;
}

export function channelProtocolConfig(protocol: string): ChannelProtocolConfig {
  return {
    codec: protocol.includes("base64") ? "base64" : "binary",
    closeSignal: protocol === WsProtocol.V5,
    statusErrorChannel: protocol.startsWith("v4.") || protocol.startsWith("v5."),
  };
}

export function encodeChannelMessage(channel: number, data: Uint8Array, codec: ChannelCodec): Buffer | string {
  if (codec === "base64") return String.fromCharCode(48 + channel) + Buffer.from(data).toString("base64");
  const message = Buffer.allocUnsafe(data.length + 1);
  message[0] = channel;
  message.set(data, 1);
  return message;
}

export function encodeCloseSignal(channel: number): Buffer {
  return Buffer.from([CLOSE_SIGNAL, channel]);
}

export type ChannelMessage = { kind: "data"; channel: number; data: Buffer } | { kind: "close"; channel: number };

export class ChannelProtocolError extends Error {
  override name = "ChannelProtocolError";
  /** kubelet drops a bad data message but closes the connection on a bad close signal. */
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

/** Decodes one message; undefined for an empty one (which kubelet skips). */
export function decodeChannelMessage(message: Buffer, config: ChannelProtocolConfig): ChannelMessage | undefined {
  if (message.length === 0) return undefined;
  if (config.closeSignal && message[0] === CLOSE_SIGNAL) {
    if (message.length !== 2) throw new ChannelProtocolError(`close signal with ${message.length - 1} bytes, expected 1`, true);
    return { kind: "close", channel: message[1]! };
  }
  if (config.codec === "binary") return { kind: "data", channel: message[0]!, data: message.subarray(1) };
  const channel = message[0]! - 48;
  const text = message.subarray(1).toString("latin1");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new ChannelProtocolError(`channel ${channel}: payload is not base64`, false);
  }
  return { kind: "data", channel, data: Buffer.from(text, "base64") };
}

/** The 2-byte little-endian port kubelet writes first on each port-forward channel. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}
