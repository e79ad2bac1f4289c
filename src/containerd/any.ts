// google.protobuf.Any values as containerd's Go client writes them (typeurl): the OCI
// spec and CRI metadata are JSON with registered type URLs; proto messages use their
// full name as the URL. JSON goes through exact-json so 64-bit integers stay exact.
import { create, toBinary, fromBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { parseExact, stringifyExact } from "./exact-json.js";

export function jsonAny(typeUrl: string, value: unknown): Any {
  return create(AnySchema, { typeUrl, value: Buffer.from(stringifyExact(value)) });
}

export function parseJsonAny<T>(any: Any | undefined, typeUrl: string): T | undefined {
  if (!any || any.typeUrl !== typeUrl) return undefined;
  return parseExact(Buffer.from(any.value).toString("utf8")) as T;
}

export function protoAny<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Any {
  return create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, init)) });
}

/** Unpacks a proto Any whose URL names the schema (with or without a type.googleapis.com/ style prefix). */
export function unpackAny<D extends DescMessage>(any: Any | undefined, schema: D): MessageShape<D> | undefined {
  if (!any) return undefined;
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  if (name !== schema.typeName) return undefined;
  return fromBinary(schema, any.value);
}
