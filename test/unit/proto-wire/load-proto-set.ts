// Parses a set of .proto files (offline, with protobufjs) and returns the wire
// shape of each one.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import protobuf from "protobufjs";
import { describeParsedFile, type ParsedFile } from "./shape-from-protobufjs.js";

/** Where protobufjs keeps google/protobuf/descriptor.proto and friends. */
const PROTOBUFJS_DIR = path.dirname(createRequire(import.meta.url).resolve("protobufjs/package.json"));

/**
 * Empty stand-in for github.com/gogo/protobuf/gogoproto/gogo.proto, which the
 * Debian cri-api source imports for Go-only codegen options. protobufjs keeps
 * custom options unchecked, so the options need no declarations.
 */
export const STUBS_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "stubs");

/**
 * @param includeDirs searched in order for every file and import, like protoc -I
 * @param files import-style paths ("runtime/v1/api.proto") of the files to describe
 * @returns shape and comments of each requested file, keyed by the same import-style path
 */
export function loadProtoSet(includeDirs: string[], files: string[]): Map<string, ParsedFile> {
  const dirs = [...includeDirs, PROTOBUFJS_DIR];
  const find = (importPath: string): string => {
    for (const dir of dirs) {
      const candidate = path.join(dir, importPath);
      if (fs.existsSync(candidate)) return candidate;
    }
    throw new Error(`proto import "${importPath}" not found in ${dirs.join(", ")}`);
  };
  const root = new protobuf.Root();
  // protobufjs passes the top-level file with an empty origin, imports with the importer.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : find(target));
  const located = files.map((file) => ({ file, absolute: find(file) }));
  root.loadSync(
    located.map((l) => l.absolute),
    { keepCase: true, alternateCommentMode: true },
  );
  root.resolveAll();
  const parsed = new Map<string, ParsedFile>();
  for (const { file, absolute } of located) {
    parsed.set(file, describeParsedFile(root, absolute, fs.readFileSync(absolute, "utf8")));
  }
  return parsed;
}

/** Import-style paths of every .proto file under dir, sorted. */
export function listProtoFiles(dir: string, under = ""): string[] {
  const base = path.join(dir, under);
  if (!fs.existsSync(base)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(base, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".proto")) continue;
    out.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}
