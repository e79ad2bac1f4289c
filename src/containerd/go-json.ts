// Encodes CRI messages as Go's encoding/json does for the gogo-generated cri-api structs
// (snake_case keys, omitempty, 64-bit integers and enums as numbers). containerd's CRI keeps
// sandbox/container metadata in that shape; writing it the same way lets containerd's
// CRI and crib read each other's pods. Decoding goes through fromJson, which accepts it.
// 64-bit integers stay exact (bigints past 2^53): write the result with stringifyExact.
import { fromJson, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { bigintsAsStrings, exactInt, type ExactJsonValue as JsonValue } from "./exact-json.js";

type Plain = Record<string, unknown>;

function scalarToGo(type: ScalarType, v: unknown): JsonValue | undefined {
  switch (type) {
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      if (typeof v === "bigint") return v === 0n ? undefined : exactInt(v);
      return v === 0 || v === "0" || v === undefined ? undefined : exactInt(BigInt(v as number | string));
    case ScalarType.BYTES:
      return v instanceof Uint8Array && v.length > 0 ? Buffer.from(v).toString("base64") : undefined;
    case ScalarType.BOOL:
      return v === true ? true : undefined;
    case ScalarType.STRING:
      return typeof v === "string" && v !== "" ? v : undefined;
    default:
      return typeof v === "number" && v !== 0 ? v : undefined;
  }
}

function valueToGo(field: DescField, v: unknown): JsonValue | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalarToGo(field.scalar, v);
    case "enum":
      return typeof v === "number" && v !== 0 ? v : undefined;
    case "message":
      return v === undefined ? undefined : messageToGo(field.message, v as Plain);
    case "list": {
      const arr = v as unknown[];
      if (!arr || arr.length === 0) return undefined;
      return arr.map((x) =>
        field.listKind === "message" ? messageToGo(field.message, x as Plain) : field.listKind === "enum" ? (x as number) : (scalarToGo(field.scalar, x) ?? zeroOf(field.scalar)),
      );
    }
    case "map": {
      const obj = v as Record<string, unknown>;
      if (!obj || Object.keys(obj).length === 0) return undefined;
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(obj)) {
        out[k] = field.mapKind === "message" ? messageToGo(field.message, x as Plain) : field.mapKind === "enum" ? (x as number) : (scalarToGo(field.scalar, x) ?? zeroOf(field.scalar));
      }
      return out;
    }
  }
}

function zeroOf(type: ScalarType): JsonValue {
  if (type === ScalarType.STRING || type === ScalarType.BYTES) return "";
  if (type === ScalarType.BOOL) return false;
  return 0;
}

export function messageToGo(desc: DescMessage, msg: Plain): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = {};
  for (const field of desc.fields) {
    let v: unknown;
    if (field.oneof) {
      const o = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
      if (o?.case !== field.localName) continue;
      v = o.value;
    } else {
      v = msg[field.localName];
    }
    const g = valueToGo(field, v);
    if (g !== undefined) out[field.name] = g;
  }
  return out;
}

export function messageFromGo<D extends DescMessage>(desc: D, json: JsonValue): MessageShape<D> {
  return fromJson(desc, bigintsAsStrings(json), { ignoreUnknownFields: true });
}
