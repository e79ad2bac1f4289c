// crib's .proto copies must put the same bytes on the wire as the upstream
// files they were copied from (Debian's cri-api and containerd-api source
// packages), and src/gen must be generated from the current copies.
// See docs/PROTO.md.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { DescFile } from "@bufbuild/protobuf";
import { compareShapes, formatDifferences, type Difference } from "./proto-wire/compare-shapes.js";
import { CRI_ADDITIONS } from "./proto-wire/cri-additions.js";
import { loadProtoSet } from "./proto-wire/load-proto-set.js";
import {
  CRI_OURS,
  NOT_COPIED,
  OUR_INCLUDE_DIRS,
  REPO_ROOT,
  UPSTREAM_INCLUDE_DIRS,
  UPSTREAM_PACKAGES,
  UPSTREAM_SRC,
  notCopiedReason,
  ourCopyOf,
  ourProtoFiles,
  upstreamProtoFiles,
  upstreamVersionsNote,
  type ProtoPair,
} from "./proto-wire/proto-sources.js";
import { shapeOfDescFile } from "./proto-wire/shape-from-desc.js";
import type { WireShape } from "./proto-wire/wire-shape.js";

const rel = (p: string): string => path.relative(REPO_ROOT, p);
const versions = (): string => upstreamVersionsNote((f) => fs.readFileSync(f, "utf8"));

const ours = ourProtoFiles();
const oursParsed = loadProtoSet(OUR_INCLUDE_DIRS, [...ours.cri, ...ours.containerd, ...ours.google]);
const upstreamFiles = upstreamProtoFiles();
const copiedPairs: ProtoPair[] = upstreamFiles
  .filter((upstream) => notCopiedReason(upstream) === undefined)
  .map((upstream) => ({ upstream, ours: ourCopyOf(upstream) }))
  .filter((pair) => oursParsed.has(pair.ours));

let upstreamParsed: ReturnType<typeof loadProtoSet> | undefined;
/** Fails the calling test (never skips it) when install-deps has not run. */
function upstream(file: string): WireShape {
  if (upstreamFiles.length === 0) {
    assert.fail(
      `upstream protos not found under ${rel(UPSTREAM_SRC)}: run scripts/install-deps.sh (or \`make deps\`) ` +
        `to unpack ${UPSTREAM_PACKAGES.join(" and ")} there`,
    );
  }
  upstreamParsed ??= loadProtoSet(UPSTREAM_INCLUDE_DIRS, copiedPairs.map((p) => p.upstream));
  const parsed = upstreamParsed.get(file);
  assert.ok(parsed, `${file} was not loaded from ${rel(UPSTREAM_SRC)}`);
  return parsed.shape;
}

function ourShape(file: string): WireShape {
  const parsed = oursParsed.get(file);
  assert.ok(parsed, `proto copy ${file} not found under ${OUR_INCLUDE_DIRS.map(rel).join(", ")}`);
  return parsed.shape;
}

function assertNoDifferences(diffs: Difference[], expectedLabel: string, actualLabel: string, hint: string): void {
  if (diffs.length > 0) assert.fail(`${diffs.length} wire difference(s):\n${formatDifferences(diffs, expectedLabel, actualLabel)}\n${hint}`);
}

describe("proto copies are wire-identical to upstream", () => {
  test("the upstream Debian protos are unpacked", () => {
    const cri = upstream("k8s.io/cri-api/pkg/apis/runtime/v1/api.proto");
    assert.ok(cri.has("service runtime.v1.RuntimeService"));
  });

  test("every upstream file has a copy in proto/ or a reason in NOT_COPIED", () => {
    upstream("k8s.io/cri-api/pkg/apis/runtime/v1/api.proto");
    const uncopied = upstreamFiles.filter((u) => notCopiedReason(u) === undefined && !oursParsed.has(ourCopyOf(u)));
    assert.deepEqual(uncopied, [], `upstream files (${versions()}) with no copy under proto/`);
    const unusedReasons = NOT_COPIED.filter((n) => !upstreamFiles.some((u) => u.startsWith(n.prefix)));
    assert.deepEqual(unusedReasons, [], "NOT_COPIED entries that match no upstream file");
  });

  test("every copy in proto/cri and proto/containerd has an upstream original", () => {
    upstream("k8s.io/cri-api/pkg/apis/runtime/v1/api.proto");
    const copied = new Set(copiedPairs.map((p) => p.ours));
    const orphans = [...ours.cri, ...ours.containerd].filter((f) => !copied.has(f));
    assert.deepEqual(orphans, [], `copies with no upstream file (${versions()})`);
  });

  for (const pair of copiedPairs) {
    const isCri = pair.ours === CRI_OURS;
    test(`${pair.ours} matches upstream ${pair.upstream}`, () => {
      const diffs = compareShapes(upstream(pair.upstream), ourShape(pair.ours), isCri ? CRI_ADDITIONS.map((a) => a.item) : []);
      assertNoDifferences(
        diffs,
        "upstream",
        "crib",
        isCri
          ? "Fix proto/cri/runtime/v1/api.proto; items added after the Debian release belong in test/unit/proto-wire/cri-additions.ts."
          : "crib's containerd protos are verbatim copies: copy the upstream file again.",
      );
    });
  }

  test("CRI additions are in crib's copy, not yet upstream, and commented with their release", () => {
    const upstreamCri = upstream("k8s.io/cri-api/pkg/apis/runtime/v1/api.proto");
    const parsed = oursParsed.get(CRI_OURS);
    assert.ok(parsed);
    const problems: string[] = [];
    for (const { item, since } of CRI_ADDITIONS) {
      if (!parsed.shape.has(item)) problems.push(`${item}: listed but not in ${CRI_OURS}`);
      if (upstreamCri.has(item)) {
        problems.push(`${item}: now upstream (${versions()}); drop it from cri-additions.ts and its "crib: added" comment`);
      }
      const marker = `crib: added in cri-api ${since}`;
      if (!(parsed.comments.get(item) ?? "").includes(marker)) problems.push(`${item}: comment lacks "${marker}"`);
    }
    const listed = new Set(CRI_ADDITIONS.map((a) => a.item));
    for (const [key, comment] of parsed.comments) {
      if (comment.includes("crib: added in") && !listed.has(key)) problems.push(`${key}: marked "crib: added" but not listed`);
    }
    assert.deepEqual(problems, []);
  });

  test("google.rpc.Status has its public wire shape", () => {
    // Debian has no source package for it; this is the published definition.
    const expected: WireShape = new Map([
      ["syntax", "proto3"],
      ["package", "google.rpc"],
      ["message google.rpc.Status", ""],
      ["field google.rpc.Status.code", "#1 singular int32"],
      ["field google.rpc.Status.message", "#2 singular string"],
      ["field google.rpc.Status.details", "#3 repeated google.protobuf.Any"],
    ]);
    assertNoDifferences(compareShapes(expected, ourShape("google/rpc/status.proto")), "google.rpc", "crib", "");
  });
});

describe("src/gen is generated from the current proto/", () => {
  test("every generated file has the wire shape of its .proto", async () => {
    const problems: string[] = [];
    for (const [file, parsed] of oursParsed) {
      const generated = path.join(REPO_ROOT, "src/gen", file.replace(/\.proto$/, "_pb.ts"));
      if (!fs.existsSync(generated)) {
        problems.push(`${rel(generated)} missing`);
        continue;
      }
      const desc = findGenFile(await import(pathToFileURL(generated).href), file);
      if (!desc) {
        problems.push(`${rel(generated)} exports no file descriptor for ${file}`);
        continue;
      }
      const diffs = compareShapes(parsed.shape, shapeOfDescFile(desc));
      if (diffs.length > 0) problems.push(`${rel(generated)}:\n${formatDifferences(diffs, "proto", "src/gen")}`);
    }
    assert.ok(problems.length === 0, `${problems.join("\n")}\nRun \`npx buf generate\` (or \`make gen\`).`);
  });
});

function findGenFile(module: Record<string, unknown>, protoFile: string): DescFile | undefined {
  const name = protoFile.replace(/\.proto$/, "");
  return Object.values(module).find(
    (v): v is DescFile =>
      typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "file" && (v as DescFile).name === name,
  );
}

describe("compareShapes catches every wire change", () => {
  const base = `syntax = "proto3";
package t;
message M {
  int32 a = 1;
  repeated string b = 2;
  map<string, int64> c = 3;
  oneof pick { string d = 4; N e = 5; }
  optional bool f = 6;
  repeated int32 g = 7;
  E h = 8;
  message N { uint64 x = 1; }
}
enum E { E_ZERO = 0; E_ONE = 1; }
service S {
  rpc Get(M) returns (M.N) {}
  rpc Watch(M) returns (stream M.N) {}
}
`;
  const cases: { name: string; from: string; to: string; allowed?: string[]; want: string[] }[] = [
    { name: "no change", from: "", to: "", want: [] },
    { name: "field number", from: "int32 a = 1;", to: "int32 a = 9;", want: ["changed field t.M.a"] },
    { name: "scalar type", from: "int32 a = 1;", to: "int64 a = 1;", want: ["changed field t.M.a"] },
    { name: "zigzag encoding", from: "int32 a = 1;", to: "sint32 a = 1;", want: ["changed field t.M.a"] },
    { name: "field renamed", from: "int32 a = 1;", to: "int32 z = 1;", want: ["missing field t.M.a", "extra field t.M.z"] },
    { name: "repeated to singular", from: "repeated string b = 2;", to: "string b = 2;", want: ["changed field t.M.b"] },
    { name: "map value type", from: "map<string, int64>", to: "map<string, int32>", want: ["changed field t.M.c"] },
    { name: "map key type", from: "map<string, int64>", to: "map<int32, int64>", want: ["changed field t.M.c"] },
    {
      name: "field leaves oneof",
      from: "oneof pick { string d = 4; N e = 5; }",
      to: "string d = 4; oneof pick { N e = 5; }",
      want: ["changed field t.M.d"],
    },
    { name: "proto3 optional dropped", from: "optional bool f = 6;", to: "bool f = 6;", want: ["changed field t.M.f"] },
    { name: "packing", from: "repeated int32 g = 7;", to: "repeated int32 g = 7 [packed = false];", want: ["changed field t.M.g"] },
    { name: "enum type of field", from: "E h = 8;", to: "N h = 8;", want: ["changed field t.M.h"] },
    { name: "enum value number", from: "E_ONE = 1;", to: "E_ONE = 2;", want: ["changed value t.E.E_ONE"] },
    { name: "enum value removed", from: "E_ONE = 1;", to: "", want: ["missing value t.E.E_ONE"] },
    { name: "streaming flag", from: "returns (stream M.N)", to: "returns (M.N)", want: ["changed rpc t.S.Watch"] },
    { name: "request type", from: "rpc Get(M)", to: "rpc Get(M.N)", want: ["changed rpc t.S.Get"] },
    { name: "rpc removed", from: "rpc Get(M) returns (M.N) {}", to: "", want: ["missing rpc t.S.Get"] },
    { name: "extra field", from: "uint64 x = 1;", to: "uint64 x = 1; string y = 2;", want: ["extra field t.M.N.y"] },
    {
      name: "extra field, allow-listed",
      from: "uint64 x = 1;",
      to: "uint64 x = 1; string y = 2;",
      allowed: ["field t.M.N.y"],
      want: [],
    },
    {
      name: "extra message, allow-listed with its fields",
      from: "enum E {",
      to: "message P { string p = 1; }\nenum E {",
      allowed: ["message t.P"],
      want: [],
    },
    {
      name: "allow-list never excuses a change",
      from: "uint64 x = 1;",
      to: "uint64 x = 2;",
      allowed: ["message t.M.N"],
      want: ["changed field t.M.N.x"],
    },
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crib-proto-wire-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const shapeOf = (name: string, source: string): WireShape => {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, "t.proto"), source);
    const parsed = loadProtoSet([path.join(dir, name)], ["t.proto"]).get("t.proto");
    assert.ok(parsed);
    return parsed.shape;
  };
  const baseShape = shapeOf("base", base);
  cases.forEach((c, i) => {
    test(c.name, () => {
      assert.ok(c.from === "" || base.includes(c.from), `case ${c.name}: "${c.from}" not in base`);
      const changed = shapeOf(`case-${i}`, c.from === "" ? base : base.replace(c.from, c.to));
      const got = compareShapes(baseShape, changed, c.allowed ?? []).map((d) => `${d.kind} ${d.key}`);
      assert.deepEqual(got.sort(), [...c.want].sort());
    });
  });
});
