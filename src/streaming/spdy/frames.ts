// SPDY/3.1 frames (draft-mbelshe-httpbis-spdy-00 plus the 3.1 session window) as plain
// values, and their exact wire encoding. Header blocks stay compressed bytes here; the
// connection runs them through its header-compression contexts in frame order.
//
// Validation follows moby/spdystream's framer (what kubelet, containerd and crictl run):
// the fixed-size frames must have their exact length, stream id 0 is refused where a stream
// is required, RST_STREAM status 0 and PING id 0 are invalid. Unknown control frame types
// are NOT an error (the spec says to ignore them; spdystream would drop the connection).
import { SpdyProtocolError } from "./errors.js";

export const SPDY_VERSION = 3;
/** Largest length the 24-bit length field can carry. */
export const MAX_FRAME_LENGTH = 0xffffff;
export const MAX_STREAM_ID = 0x7fffffff;
export const MAX_WINDOW_SIZE = 0x7fffffff;
/** Both directions start with this window per stream and per session (SPDY/3 section 2.6.8). */
export const DEFAULT_INITIAL_WINDOW_SIZE = 64 * 1024;
export const FRAME_HEADER_LENGTH = 8;

export const ControlType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR_SETTINGS = 0x01;

export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  InvalidCredentials: 10,
  FrameTooLarge: 11,
} as const;

export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

export const SettingsId = {
  UploadBandwidth: 1,
  DownloadBandwidth: 2,
  RoundTripTime: 3,
  MaxConcurrentStreams: 4,
  CurrentCwnd: 5,
  DownloadRetransRate: 6,
  InitialWindowSize: 7,
  ClientCertificateVectorSize: 8,
} as const;

export interface SettingsEntry {
  /** FLAG_SETTINGS_PERSIST_VALUE (1) / FLAG_SETTINGS_PERSISTED (2). */
  flags: number;
  id: number;
  value: number;
}

export type Frame =
  | {
      type: "SYN_STREAM";
      streamId: number;
      associatedToStreamId: number;
      /** 0 (highest) to 7. */
      priority: number;
      slot: number;
      flags: number;
      headerBlock: Buffer;
    }
  | { type: "SYN_REPLY"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "RST_STREAM"; streamId: number; status: number }
  | { type: "SETTINGS"; flags: number; entries: SettingsEntry[] }
  | { type: "PING"; id: number }
  | { type: "GOAWAY"; lastGoodStreamId: number; status: number }
  | { type: "HEADERS"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "WINDOW_UPDATE"; streamId: number; deltaWindowSize: number }
  | { type: "DATA"; streamId: number; flags: number; data: Buffer };

export type FrameType = Frame["type"];

function controlHeader(type: number, flags: number, length: number): Buffer {
  if (length > MAX_FRAME_LENGTH) throw new RangeError(`SPDY frame payload of ${length} bytes exceeds 24 bits`);
  const header = Buffer.alloc(FRAME_HEADER_LENGTH);
  header.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  header.writeUInt16BE(type, 2);
  header.writeUInt32BE((((flags & 0xff) << 24) | length) >>> 0, 4);
  return header;
}

function requireStreamId(id: number, what: string): void {
  if (!Number.isInteger(id) || id <= 0 || id > MAX_STREAM_ID) throw new RangeError(`${what}: invalid stream id ${id}`);
}

function fixed(type: number, flags: number, words: number[]): Buffer {
  const header = controlHeader(type, flags, words.length * 4);
  const body = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => body.writeUInt32BE(w >>> 0, i * 4));
  return Buffer.concat([header, body]);
}

/** The exact bytes of a frame (what spdystream's framer writes for the same values). */
export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case "SYN_STREAM": {
      requireStreamId(frame.streamId, "SYN_STREAM");
      const head = controlHeader(ControlType.SynStream, frame.flags, 10 + frame.headerBlock.length);
      const fields = Buffer.alloc(10);
      fields.writeUInt32BE(frame.streamId & MAX_STREAM_ID, 0);
      fields.writeUInt32BE(frame.associatedToStreamId & MAX_STREAM_ID, 4);
      fields.writeUInt8((frame.priority & 0x7) << 5, 8);
      fields.writeUInt8(frame.slot & 0xff, 9);
      return Buffer.concat([head, fields, frame.headerBlock]);
    }
    case "SYN_REPLY":
    case "HEADERS": {
      requireStreamId(frame.streamId, frame.type);
      const type = frame.type === "SYN_REPLY" ? ControlType.SynReply : ControlType.Headers;
      const head = controlHeader(type, frame.flags, 4 + frame.headerBlock.length);
      const id = Buffer.alloc(4);
      id.writeUInt32BE(frame.streamId & MAX_STREAM_ID);
      return Buffer.concat([head, id, frame.headerBlock]);
    }
    case "RST_STREAM":
      requireStreamId(frame.streamId, "RST_STREAM");
      if (frame.status === 0) throw new RangeError("RST_STREAM: status 0 is invalid");
      return fixed(ControlType.RstStream, 0, [frame.streamId, frame.status]);
    case "SETTINGS": {
      const words = [frame.entries.length];
      for (const e of frame.entries) words.push((((e.flags & 0xff) << 24) | (e.id & 0xffffff)) >>> 0, e.value);
      return fixed(ControlType.Settings, frame.flags, words);
    }
    case "PING":
      if (frame.id === 0) throw new RangeError("PING: id 0 is invalid");
      return fixed(ControlType.Ping, 0, [frame.id]);
    case "GOAWAY":
      return fixed(ControlType.GoAway, 0, [frame.lastGoodStreamId & MAX_STREAM_ID, frame.status]);
    case "WINDOW_UPDATE":
      return fixed(ControlType.WindowUpdate, 0, [frame.streamId & MAX_STREAM_ID, frame.deltaWindowSize & MAX_WINDOW_SIZE]);
    case "DATA": {
      requireStreamId(frame.streamId, "DATA");
      if (frame.data.length > MAX_FRAME_LENGTH) throw new RangeError(`DATA: ${frame.data.length} bytes exceed 24 bits`);
      const head = Buffer.alloc(FRAME_HEADER_LENGTH);
      head.writeUInt32BE(frame.streamId & MAX_STREAM_ID, 0);
      head.writeUInt32BE((((frame.flags & 0xff) << 24) | frame.data.length) >>> 0, 4);
      return Buffer.concat([head, frame.data]);
    }
  }
}

function exactLength(name: string, payload: Buffer, length: number): void {
  if (payload.length !== length) {
    throw new SpdyProtocolError(`${name} frame with length ${payload.length}, expected ${length}`);
  }
}

function nonZeroStream(name: string, id: number): number {
  if (id === 0) throw new SpdyProtocolError(`${name} frame for stream id 0`);
  return id;
}

/**
 * Decodes the payload of a control frame whose 8-byte header the reader has already
 * checked (control bit, version 3). Returns undefined for a type this version does not
 * know (NOOP, CREDENTIAL, ...): the caller skips it.
 */
export function decodeControlFrame(type: number, flags: number, payload: Buffer): Frame | undefined {
  const u32 = (offset: number) => payload.readUInt32BE(offset);
  switch (type) {
    case ControlType.SynStream: {
      if (payload.length < 10) throw new SpdyProtocolError(`SYN_STREAM frame too short (${payload.length} bytes)`);
      return {
        type: "SYN_STREAM",
        streamId: nonZeroStream("SYN_STREAM", u32(0) & MAX_STREAM_ID),
        associatedToStreamId: u32(4) & MAX_STREAM_ID,
        priority: payload[8]! >> 5,
        slot: payload[9]!,
        flags,
        headerBlock: payload.subarray(10),
      };
    }
    case ControlType.SynReply:
    case ControlType.Headers: {
      const name = type === ControlType.SynReply ? "SYN_REPLY" : "HEADERS";
      if (payload.length < 4) throw new SpdyProtocolError(`${name} frame too short (${payload.length} bytes)`);
      const streamId = nonZeroStream(name, u32(0) & MAX_STREAM_ID);
      return { type: name, streamId, flags, headerBlock: payload.subarray(4) };
    }
    case ControlType.RstStream: {
      exactLength("RST_STREAM", payload, 8);
      const streamId = nonZeroStream("RST_STREAM", u32(0) & MAX_STREAM_ID);
      const status = u32(4);
      if (status === 0) throw new SpdyProtocolError("RST_STREAM frame with status 0");
      return { type: "RST_STREAM", streamId, status };
    }
    case ControlType.Settings: {
      if (payload.length < 4) throw new SpdyProtocolError("SETTINGS frame too short");
      const count = u32(0);
      exactLength("SETTINGS", payload, 4 + count * 8);
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < count; i++) {
        const idWord = u32(4 + i * 8);
        entries.push({ flags: idWord >>> 24, id: idWord & 0xffffff, value: u32(8 + i * 8) });
      }
      return { type: "SETTINGS", flags, entries };
    }
    case ControlType.Ping: {
      exactLength("PING", payload, 4);
      if (flags !== 0) throw new SpdyProtocolError(`PING frame with flags ${flags}`);
      const id = u32(0);
      if (id === 0) throw new SpdyProtocolError("PING frame with id 0");
      return { type: "PING", id };
    }
    case ControlType.GoAway:
      exactLength("GOAWAY", payload, 8);
      if (flags !== 0) throw new SpdyProtocolError(`GOAWAY frame with flags ${flags}`);
      return { type: "GOAWAY", lastGoodStreamId: u32(0) & MAX_STREAM_ID, status: u32(4) };
    case ControlType.WindowUpdate:
      exactLength("WINDOW_UPDATE", payload, 8);
      if (flags !== 0) throw new SpdyProtocolError(`WINDOW_UPDATE frame with flags ${flags}`);
      return { type: "WINDOW_UPDATE", streamId: u32(0) & MAX_STREAM_ID, deltaWindowSize: u32(4) & MAX_WINDOW_SIZE };
    default:
      return undefined;
  }
}
