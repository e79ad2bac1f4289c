// A minimal WebSocket client as a byte stream, for SPDY tunnelled in WebSocket. The ws
// library refuses to offer "SPDY/3.1+portforward.k8s.io" (not an RFC 7230 token), which is
// exactly what client-go's gorilla-based dialer offers, so crib's test client speaks RFC 6455
// itself: the upgrade handshake, masked binary frames out, data frames in (their payloads
// concatenated: the tunnel does not care where messages end), ping answered, close echoed.
import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Duplex } from "node:stream";
import { Socket } from "node:net";
import { headerList } from "../../src/streaming/spdy/upgrade.js";
import { WebSocketUpgradeError } from "../../src/streaming/websocket/errors.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;
const MAX_PAYLOAD = 64 * 1024 * 1024;

export function encodeClientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const header = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (len < 126) header[1] = 0x80 | len;
  else if (len < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = crypto.randomBytes(4);
  const masked = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

class RawWebSocketStream extends Duplex {
  private pending: Buffer = Buffer.alloc(0);
  private closeSent = false;

  constructor(private readonly socket: Socket | Duplex) {
    super({ allowHalfOpen: false });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.push(null));
    socket.on("close", () => this.destroy());
    socket.on("error", (err: Error) => this.destroy(err));
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(encodeClientFrame(Op.Binary, chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendClose(1000);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  private sendClose(code: number): void {
    if (this.closeSent || this.socket.destroyed) return;
    this.closeSent = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.end(encodeClientFrame(Op.Close, payload));
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const frame = parseServerFrame(this.pending);
      if (frame === "incomplete") return;
      if (frame === "invalid") return void this.destroy(new Error("malformed WebSocket frame"));
      this.pending = this.pending.subarray(frame.size);
      if (frame.opcode === Op.Ping) this.socket.write(encodeClientFrame(Op.Pong, frame.payload));
      else if (frame.opcode === Op.Close) {
        this.sendClose(1000);
        this.push(null);
        return;
      } else if (frame.opcode <= Op.Binary && frame.payload.length > 0) {
        if (!this.push(frame.payload)) this.socket.pause();
      }
    }
  }
}

function parseServerFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | "incomplete" | "invalid" {
  if (buf.length < 2) return "incomplete";
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return "incomplete";
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return "incomplete";
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(MAX_PAYLOAD)) return "invalid";
    len = Number(big);
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buf.length < offset + len) return "incomplete";
  let payload = buf.subarray(offset, offset + len);
  if (masked) {
    payload = Buffer.from(payload);
    for (let i = 0; i < len; i++) payload[i]! ^= buf[maskOffset + (i & 3)]!;
  }
  return { opcode, payload, size: offset + len };
}

/** Upgrades to WebSocket offering `protocols` verbatim; resolves with the byte stream. */
export function dialRawWebSocket(
  url: string | URL,
  protocols: readonly string[],
  timeoutMs = 30_000,
): Promise<{ stream: Duplex; protocol: string }> {
  const target = new URL(url);
  target.protocol = target.protocol === "wss:" || target.protocol === "https:" ? "https:" : "http:";
  const key = crypto.randomBytes(16).toString("base64");
  const request = target.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key,
        ...(protocols.length > 0 ? { "Sec-WebSocket-Protocol": protocols.join(", ") } : {}),
      },
      timeout: timeoutMs,
      rejectUnauthorized: false,
    });
    req.on("timeout", () => req.destroy(new Error("WebSocket handshake timed out")));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => reject(new WebSocketUpgradeError(res.statusCode ?? 0, Buffer.concat(chunks).toString())));
    });
    req.on("upgrade", (res, socket: Duplex, head: Buffer) => {
      const accept = crypto.createHash("sha1").update(key + GUID).digest("base64");
      if (res.headers["sec-websocket-accept"] !== accept) {
        socket.destroy();
        return reject(new WebSocketUpgradeError(res.statusCode ?? 0, "bad Sec-WebSocket-Accept"));
      }
      if (socket instanceof Socket) socket.setTimeout(0);
      const stream = new RawWebSocketStream(socket);
      if (head.length > 0) socket.unshift(head);
      resolve({ stream, protocol: headerList(res.headers["sec-websocket-protocol"])[0] ?? "" });
    });
    req.end();
  });
}
