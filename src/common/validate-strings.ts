// Refuses NUL bytes anywhere in a CRI request. A NUL ends a C string: in an env value,
// argument or path it makes runc fail at start, in a pod name CNI refuses CNI_ARGS
// ("must be a string without null bytes"), in a label or annotation containerd or a
// reader in C truncates it. No CRI field has a use for one, so every string field, list
// element, map key and map value of the request is checked, and the first one found is
// named by its proto field path ("config.envs[2].value").
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { invalidArgument } from "../errors.js";

type Plain = Record<string, unknown>;

const hasNul = (v: unknown) => typeof v === "string" && v.includes("\0");
const child = (path: string, name: string) => (path ? `${path}.${name}` : name);

function fieldValue(field: DescField, msg: Plain): unknown {
  if (!field.oneof) return msg[field.localName];
  const o = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return o?.case === field.localName ? o.value : undefined;
}

/** The path of the first string in `msg` that holds a NUL byte, or undefined. */
export function findNulByte(desc: DescMessage, msg: Plain, path = ""): string | undefined {
  for (const field of desc.fields) {
    const v = fieldValue(field, msg);
    if (v === undefined || v === null) continue;
    const p = child(path, field.name);
    switch (field.fieldKind) {
      case "scalar":
        if (field.scalar === ScalarType.STRING && hasNul(v)) return p;
        break;
      case "message": {
        const found = findNulByte(field.message, v as Plain, p);
        if (found) return found;
        break;
      }
      case "list": {
        const list = v as unknown[];
        for (let i = 0; i < list.length; i++) {
          const found = field.listKind === "message" ? findNulByte(field.message, list[i] as Plain, `${p}[${i}]`) : hasNul(list[i]) ? `${p}[${i}]` : undefined;
          if (found) return found;
        }
        break;
      }
      case "map":
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          const at = `${p}[${JSON.stringify(k).replace(/\\u0000/g, "\\0")}]`;
          if (hasNul(k)) return at;
          const found = field.mapKind === "message" ? findNulByte(field.message, x as Plain, at) : hasNul(x) ? at : undefined;
          if (found) return found;
        }
        break;
      case "enum":
        break;
    }
  }
  return undefined;
}

/** INVALID_ARGUMENT naming the first field of the request that holds a NUL byte. */
export function refuseNulBytes(desc: DescMessage, msg: object): void {
  const at = findNulByte(desc, msg as Plain);
  if (at !== undefined) throw invalidArgument(`${at}: must not contain a NUL byte`);
}
