// Terminal resize events: the resize stream (SPDY) or channel 4 (WebSocket) carries a
// sequence of JSON objects {"Width":80,"Height":24} with no separator, split across frames
// however the client's writes fell. kubelet reads them with Go's json.Decoder into
// TerminalSize{Width, Height uint16}: field names match case-insensitively, unknown fields
// are ignored, and the first malformed value ends resize handling (the session goes on).

export interface TerminalSize {
  width: number;
  height: number;
}

/** Longest single event we buffer; a real one is ~30 bytes. */
const MAX_EVENT_BYTES = 4096;

export class ResizeDecodeError extends Error {
  override name = "ResizeDecodeError";
}

export class ResizeEventDecoder {
  private pending = "";
  private failed = false;

  /** Feeds bytes, returns the events they complete. Throws ResizeDecodeError once, then stays failed. */
  push(chunk: Buffer | string): TerminalSize[] {
    if (this.failed) return [];
    this.pending += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    const events: TerminalSize[] = [];
    try {
      for (;;) {
        this.pending = this.pending.trimStart();
        if (this.pending === "") break;
        const end = endOfValue(this.pending);
        if (end < 0) {
          if (this.pending.length > MAX_EVENT_BYTES) throw new ResizeDecodeError("resize event too long");
          break;
        }
        events.push(toTerminalSize(this.pending.slice(0, end)));
        this.pending = this.pending.slice(end);
      }
    } catch (err) {
      this.failed = true;
      this.pending = "";
      if (events.length > 0) return events; // deliver what preceded the bad value first
      throw err instanceof ResizeDecodeError ? err : new ResizeDecodeError(String(err));
    }
    return events;
  }
}

/** Index just past the first complete JSON value at the start of s, or -1 if incomplete. */
function endOfValue(s: string): number {
  if (s[0] !== "{") {
    // Scalars and arrays cannot be a TerminalSize; Go's decoder fails on them too.
    throw new ResizeDecodeError(`resize event is not a JSON object: ${s.slice(0, 20)}`);
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function toTerminalSize(json: string): TerminalSize {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ResizeDecodeError(`bad resize event: ${(err as Error).message}`);
  }
  const size: TerminalSize = { width: 0, height: 0 };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = key.toLowerCase();
    if (field !== "width" && field !== "height") continue;
    if (v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff) {
      throw new ResizeDecodeError(`resize ${key} must be an integer 0..65535, got ${JSON.stringify(v)}`);
    }
    size[field] = v;
  }
  return size;
}

/** One event as client-go writes it (json.Encoder: object then newline). */
export function encodeResizeEvent(size: TerminalSize): Buffer {
  return Buffer.from(`{"Width":${size.width},"Height":${size.height}}\n`);
}
