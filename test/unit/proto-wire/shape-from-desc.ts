// WireShape of a file descriptor as protobuf-es sees it, i.e. of the code that
// `buf generate` wrote into src/gen. Comparing it with the shape protobufjs reads
// from proto/ proves src/gen was regenerated after the last .proto change.
import { ScalarType, type DescEnum, type DescExtension, type DescField, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import {
  describeExtension,
  describeField,
  describeMethod,
  type Cardinality,
  type FieldFacts,
  type WireShape,
} from "./wire-shape.js";

export function shapeOfDescFile(file: DescFile): WireShape {
  const shape: WireShape = new Map();
  shape.set("syntax", file.proto.syntax === "" ? "proto2" : file.proto.syntax);
  shape.set("package", file.proto.package);
  for (const message of file.messages) addMessage(message, shape);
  for (const en of file.enums) addEnum(en, shape);
  for (const ext of file.extensions) addExtension(ext, shape);
  for (const service of file.services) {
    shape.set(`service ${service.typeName}`, "");
    for (const method of service.methods) {
      shape.set(
        `rpc ${service.typeName}.${method.name}`,
        describeMethod(
          method.input.typeName,
          method.output.typeName,
          method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
          method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
        ),
      );
    }
  }
  return shape;
}

function addMessage(message: DescMessage, shape: WireShape): void {
  // Map entry messages are an encoding detail that .proto sources never spell out.
  if (message.proto.options?.mapEntry === true) return;
  shape.set(`message ${message.typeName}`, "");
  for (const field of message.fields) {
    shape.set(`field ${message.typeName}.${field.name}`, describeField(fieldFacts(field)));
  }
  for (const nested of message.nestedMessages) addMessage(nested, shape);
  for (const en of message.nestedEnums) addEnum(en, shape);
  for (const ext of message.nestedExtensions) addExtension(ext, shape);
}

function addEnum(en: DescEnum, shape: WireShape): void {
  shape.set(`enum ${en.typeName}`, "");
  for (const value of en.values) shape.set(`value ${en.typeName}.${value.name}`, String(value.number));
}

function addExtension(ext: DescExtension, shape: WireShape): void {
  const facts = fieldFacts(ext);
  if (facts.cardinality !== "repeated") facts.cardinality = "singular";
  shape.set(`extension ${ext.typeName}`, describeExtension(facts, ext.extendee.typeName));
}

function fieldFacts(field: DescField | DescExtension): FieldFacts {
  const number = field.number;
  switch (field.fieldKind) {
    case "map": {
      const value =
        field.mapKind === "scalar" ? scalarName(field.scalar)
        : field.mapKind === "enum" ? field.enum.typeName
        : field.message.typeName;
      return { number, cardinality: "repeated", type: value, mapKey: scalarName(field.mapKey) };
    }
    case "list": {
      if (field.listKind === "message") return { number, cardinality: "repeated", type: field.message.typeName };
      const type = field.listKind === "scalar" ? scalarName(field.scalar) : field.enum.typeName;
      const packable = type !== "string" && type !== "bytes";
      return { number, cardinality: "repeated", type, packed: packable ? field.packed : undefined };
    }
    default: {
      const type =
        field.fieldKind === "scalar" ? scalarName(field.scalar)
        : field.fieldKind === "enum" ? field.enum.typeName
        : field.message.typeName;
      return { number, cardinality: singularCardinality(field), type, oneof: field.oneof?.name };
    }
  }
}

function singularCardinality(field: DescField | DescExtension): Cardinality {
  if (field.proto.proto3Optional === true) return "optional";
  // LABEL_REQUIRED = 2; LABEL_OPTIONAL = 1 means "explicit optional" only in proto2.
  if (field.proto.label === 2) return "required";
  const file = field.kind === "extension" ? field.file : field.parent.file;
  return file.proto.syntax === "" || file.proto.syntax === "proto2" ? "optional" : "singular";
}

function scalarName(scalar: ScalarType): string {
  return ScalarType[scalar].toLowerCase();
}
