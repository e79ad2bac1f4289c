// WireShape of a .proto source file as parsed by protobufjs.
import protobuf from "protobufjs";
import {
  bareName,
  describeExtension,
  describeField,
  describeMethod,
  type Cardinality,
  type FieldFacts,
  type WireShape,
} from "./wire-shape.js";

export interface ParsedFile {
  shape: WireShape;
  /** Leading comment of each item that has one, by wire-shape key. */
  comments: Map<string, string>;
}

interface Sink extends ParsedFile {
  syntax: string;
}

/** protobufjs tags every reflected object with the file it was parsed from. */
export function describeParsedFile(root: protobuf.Root, filename: string, source: string): ParsedFile {
  const syntax = /^\s*syntax\s*=\s*"([^"]+)"/m.exec(source)?.[1] ?? "proto2";
  const sink: Sink = { shape: new Map(), comments: new Map(), syntax };
  sink.shape.set("syntax", syntax);
  sink.shape.set("package", /^\s*package\s+([\w.]+)\s*;/m.exec(source)?.[1] ?? "");
  walkNamespace(root, filename, sink);
  return { shape: sink.shape, comments: sink.comments };
}

function put(sink: Sink, key: string, value: string, node: protobuf.ReflectionObject): void {
  sink.shape.set(key, value);
  if (node.comment) sink.comments.set(key, node.comment);
}

function walkNamespace(ns: protobuf.NamespaceBase, filename: string, sink: Sink): void {
  for (const node of ns.nestedArray) {
    if (node instanceof protobuf.Type) {
      if (node.filename === filename) addMessage(node, sink);
    } else if (node instanceof protobuf.Enum) {
      if (node.filename === filename) addEnum(node, sink);
    } else if (node instanceof protobuf.Service) {
      if (node.filename === filename) addService(node, sink);
    } else if (node instanceof protobuf.Field) {
      if (node.filename === filename && node.extend !== undefined) addExtension(node, sink);
    } else if (node instanceof protobuf.Namespace) {
      walkNamespace(node, filename, sink);
    }
    // protobufjs also files a synthetic OneOf next to proto3 "optional" extensions;
    // it has no wire meaning.
  }
}

function addMessage(type: protobuf.Type, sink: Sink): void {
  const name = bareName(type.fullName);
  put(sink, `message ${name}`, "", type);
  for (const field of type.fieldsArray) {
    put(sink, `field ${name}.${field.name}`, describeField(fieldFacts(field, sink.syntax)), field);
  }
  for (const node of type.nestedArray) {
    if (node instanceof protobuf.Type) addMessage(node, sink);
    else if (node instanceof protobuf.Enum) addEnum(node, sink);
    else if (node instanceof protobuf.Field && node.extend !== undefined) addExtension(node, sink);
  }
}

function addEnum(en: protobuf.Enum, sink: Sink): void {
  const name = bareName(en.fullName);
  put(sink, `enum ${name}`, "", en);
  for (const [value, number] of Object.entries(en.values)) {
    sink.shape.set(`value ${name}.${value}`, String(number));
  }
}

function addService(service: protobuf.Service, sink: Sink): void {
  const name = bareName(service.fullName);
  put(sink, `service ${name}`, "", service);
  for (const method of service.methodsArray) {
    put(
      sink,
      `rpc ${name}.${method.name}`,
      describeMethod(
        typeName(method.resolvedRequestType, method.requestType),
        typeName(method.resolvedResponseType, method.responseType),
        method.requestStream === true,
        method.responseStream === true,
      ),
      method,
    );
  }
}

function addExtension(field: protobuf.Field, sink: Sink): void {
  const extendee = field.parent?.lookup(field.extend ?? "");
  const facts = fieldFacts(field, "proto2");
  // Extensions always track presence; only repeated-or-not matters on the wire.
  if (facts.cardinality !== "repeated") facts.cardinality = "singular";
  put(
    sink,
    `extension ${bareName(field.fullName)}`,
    describeExtension(facts, extendee ? bareName(extendee.fullName) : `unresolved:${field.extend}`),
    field,
  );
}

function fieldFacts(field: protobuf.Field, syntax: string): FieldFacts {
  const proto3Optional = field.options?.["proto3_optional"] === true;
  const type = typeName(field.resolvedType, field.type);
  if (field instanceof protobuf.MapField) {
    return { number: field.id, cardinality: "repeated", type, mapKey: field.keyType };
  }
  let cardinality: Cardinality = "singular";
  if (field.repeated) cardinality = "repeated";
  else if (field.required) cardinality = "required";
  else if (proto3Optional || (syntax === "proto2" && field.optional)) cardinality = "optional";
  const facts: FieldFacts = { number: field.id, cardinality, type };
  if (field.partOf && !proto3Optional) facts.oneof = field.partOf.name;
  const packable = !(field.resolvedType instanceof protobuf.Type) && type !== "string" && type !== "bytes";
  if (field.repeated && packable) facts.packed = field.packed;
  return facts;
}

function typeName(resolved: protobuf.Type | protobuf.Enum | null, written: string): string {
  return resolved ? bareName(resolved.fullName) : written;
}
