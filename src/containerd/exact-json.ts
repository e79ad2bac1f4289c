// JSON with exact 64-bit integers. JSON.stringify cannot write a bigint and JSON.parse
// rounds every integer beyond 2^53 to a double, so 9223372036854775807 (a memory limit,
// a cpu quota) would reach containerd as 9223372036854776000, which Go's decoder refuses
// for an int64 field. Here a bigint is written as a plain integer literal and an integer
// literal beyond Number's exact range is read back as a bigint.
import { randomBytes } from "node:crypto";
import type { JsonValue } from "@bufbuild/protobuf";

export type ExactJsonValue = null | boolean | number | bigint | string | ExactJsonValue[] | { [k: string]: ExactJsonValue };

/** A number when exact as one, else the bigint itself (what the spec builder stores). */
export function exactInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** A marker no string of `text` contains, to carry integer literals through JSON as strings. */
function markerFor(text: string): string {
  for (;;) {
    const m = `~exact-int-${randomBytes(8).toString("hex")}:`;
    if (!text.includes(m)) return m;
  }
}

/** JSON.stringify, with bigints written as exact integer literals. */
export function stringifyExact(value: unknown, space?: number): string {
  const mark = `~exact-int-${randomBytes(8).toString("hex")}:`;
  const quoted = JSON.stringify(mark).slice(1, -1);
  let used = false;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== "bigint") return v;
    used = true;
    return `${mark}${v.toString()}`;
  }, space);
  if (!used) return text;
  return text.split(`"${quoted}`).map((part, i) => (i === 0 ? part : part.replace(/^(-?\d+)"/, "$1"))).join("");
}

const SIXTEEN_DIGITS = /\d{16}/;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** JSON.parse, with integer literals beyond Number's exact range read as bigints. */
export function parseExact(text: string): ExactJsonValue {
  // Only a literal of 16+ digits can be beyond 2^53: without a run of 16 digits anywhere
  // (strings included), JSON.parse is exact (and a spec is parsed several times faster).
  if (!SIXTEEN_DIGITS.test(text)) return JSON.parse(text) as ExactJsonValue;
  let out = "";
  let last = 0;
  let mark: string | undefined;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string, escapes included.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) {
          i++;
          break;
        } else i++;
      }
      continue;
    }
    if (c === 0x2d || isDigit(c)) {
      let j = c === 0x2d ? i + 1 : i;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const next = text[j];
      const integer = next !== "." && next !== "e" && next !== "E";
      if (integer && j - i > 15 && !Number.isSafeInteger(Number(text.slice(i, j)))) {
        mark ??= markerFor(text);
        out += `${text.slice(last, i)}"${mark}${text.slice(i, j)}"`;
        last = j;
      }
      while (j < n && /[0-9.eE+-]/.test(text[j]!)) j++;
      i = j;
      continue;
    }
    i++;
  }
  if (mark === undefined) return JSON.parse(text) as ExactJsonValue;
  out += text.slice(last);
  const m = mark;
  return JSON.parse(out, (_k, v: unknown) => (typeof v === "string" && v.startsWith(m) ? BigInt(v.slice(m.length)) : v)) as ExactJsonValue;
}

/** The same value with every bigint as its decimal string (protobuf JSON's int64 form). */
export function bigintsAsStrings(v: ExactJsonValue): JsonValue {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(bigintsAsStrings);
  if (v !== null && typeof v === "object") {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) out[k] = bigintsAsStrings(x);
    return out;
  }
  return v;
}
