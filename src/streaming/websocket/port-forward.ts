// Port-forward over WebSocket, channel per port as kubelet's handleWebSocketStreams does it:
// port i gets a data channel 2i (read/write) and an error channel 2i+1 (write), and each
// starts with the port number as two little-endian bytes so the client can match them.
import type { Duplex, Writable } from "node:stream";
import type { WebSocket } from "ws";
import { portPrefix } from "./channel.js";
import { WebSocketChannels } from "./channel-connection.js";

export interface PortForwardPair {
  port: number;
  data: Duplex;
  error: Writable;
}

export interface PortForwardChannels {
  pairs: PortForwardPair[];
  channels: WebSocketChannels;
  close(): void;
}

export function openPortForwardChannels(ws: WebSocket, protocol: string, ports: readonly number[]): PortForwardChannels {
  const channels = new WebSocketChannels(ws, {
    protocol,
    channels: ports.flatMap(() => [
      { readable: true, writable: true },
      { readable: false, writable: true },
    ]),
  });
  const pairs = ports.map((port, i) => {
    const data = channels.channel(2 * i);
    const error = channels.channel(2 * i + 1);
    data.write(portPrefix(port));
    error.write(portPrefix(port));
    return { port, data, error };
  });
  return { pairs, channels, close: () => channels.close() };
}
