// SPDY carried in WebSocket binary messages ("SPDY/3.1+portforward.k8s.io", what crictl
// --transport websocket uses for port-forward): the same SPDY session, over the WebSocket as
// a byte stream.
import type { WebSocket } from "ws";
import { SpdyConnection, type SpdyConnectionOptions } from "../spdy/connection.js";
import { WebSocketDuplex } from "./duplex.js";

export function spdyOverWebSocket(ws: WebSocket, options: SpdyConnectionOptions): SpdyConnection {
  return new SpdyConnection(new WebSocketDuplex(ws), options);
}
