// The wire contract of one .proto file, flattened into "key -> value" entries so
// two descriptions of the same file (upstream vs crib's copy, crib's copy vs the
// generated TypeScript) can be compared with a plain map diff.
//
// Keys name an item:        "message runtime.v1.Mount"
//                           "field runtime.v1.Mount.image_sub_path"
//                           "enum runtime.v1.Signal", "value runtime.v1.Signal.SIGTERM"
//                           "service runtime.v1.ImageService"
//                           "rpc runtime.v1.ImageService.StreamImages"
//                           "extension containerd.types.fieldpath_all"
//                           "syntax", "package"
// Values hold what the wire depends on: field number, cardinality, type (scalar
// name or full message/enum name), real-oneof membership, packing of repeated
// scalars; enum value numbers; rpc request/response types and streaming flags.
// Names stay in the key because JSON, text format and generated code use them.

export type WireShape = Map<string, string>;

export type Cardinality = "singular" | "optional" | "required" | "repeated";

export interface FieldFacts {
  number: number;
  cardinality: Cardinality;
  /** Scalar name ("string", "int64", ...) or full name without leading dot. */
  type: string;
  /** Map key scalar when the field is a map (type is then the value type). */
  mapKey?: string | undefined;
  /** Name of the real (non-synthetic) oneof the field belongs to. */
  oneof?: string | undefined;
  /** Set for repeated scalar/enum fields only: their packing changes the bytes. */
  packed?: boolean | undefined;
}

export function describeField(f: FieldFacts): string {
  const type = f.mapKey === undefined ? f.type : `map<${f.mapKey}, ${f.type}>`;
  const card = f.mapKey === undefined ? f.cardinality : "repeated";
  let out = `#${f.number} ${card} ${type}`;
  if (f.oneof !== undefined) out += ` oneof=${f.oneof}`;
  if (f.packed !== undefined) out += f.packed ? " packed" : " unpacked";
  return out;
}

export function describeMethod(
  input: string,
  output: string,
  clientStreaming: boolean,
  serverStreaming: boolean,
): string {
  return `${clientStreaming ? "stream " : ""}${input} -> ${serverStreaming ? "stream " : ""}${output}`;
}

export function describeExtension(f: FieldFacts, extendee: string): string {
  return `${describeField(f)} extends ${extendee}`;
}

/** Full names are compared without the leading dot some libraries keep. */
export function bareName(fullName: string): string {
  return fullName.startsWith(".") ? fullName.slice(1) : fullName;
}

/** The item a key names: "field runtime.v1.Mount.image_sub_path" -> "runtime.v1.Mount.image_sub_path". */
export function itemName(key: string): string {
  const space = key.indexOf(" ");
  return space < 0 ? key : key.slice(space + 1);
}
