import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, CriError } from "../../src/errors.js";
import { cleanPath, joinPath, pathBase, pathMatch } from "../../src/oci/go-path.js";
import { mergeEnv } from "../../src/oci/env.js";
import { containerProcessArgs, sandboxProcessArgs } from "../../src/oci/process-args.js";
import { buildExecProcessSpec } from "../../src/oci/exec-spec.js";
import type { OciSpec } from "../../src/oci/spec-types.js";

const isInvalidArgument = (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT;

test("cleanPath, pathBase and joinPath follow Go's path package", () => {
  const cases: [string, string][] = [
    ["", "."],
    ["/", "/"],
    ["/dev/", "/dev"],
    ["//etc//hosts", "/etc/hosts"],
    ["/a/./b/../c", "/a/c"],
    ["/../x", "/x"],
    ["a/../..", ".."],
    ["./", "."],
  ];
  for (const [input, want] of cases) assert.equal(cleanPath(input), want, `cleanPath(${JSON.stringify(input)})`);
  const bases: [string, string][] = [
    ["", "."],
    ["/", "/"],
    ["/kubepods.slice/kubepods-pod1.slice/", "kubepods-pod1.slice"],
    ["kubepods", "kubepods"],
  ];
  for (const [input, want] of bases) assert.equal(pathBase(input), want, `pathBase(${JSON.stringify(input)})`);
  assert.equal(joinPath("/kubepods/burstable/pod1", "abc"), "/kubepods/burstable/pod1/abc");
  assert.equal(joinPath("/", "data"), "/data");
});

test("pathMatch follows Go's path.Match", () => {
  const cases: [string, string, boolean][] = [
    ["io.katacontainers.*", "io.katacontainers.config.hypervisor", true],
    ["io.katacontainers.*", "io.kubernetes.cri.x", false],
    ["*", "a/b", false], // * never crosses a slash
    ["a/*", "a/b", true],
    ["a?c", "abc", true],
    ["[a-c]x", "bx", true],
    ["[^a-c]x", "dx", true],
    ["[^a-c]x", "ax", false],
    ["\\*", "*", true],
    ["[", "[", false], // malformed: matches nothing
    ["exact", "exact", true],
  ];
  for (const [pattern, name, want] of cases) assert.equal(pathMatch(pattern, name), want, `${pattern} ~ ${name}`);
});

test("mergeEnv replaces by key, appends new keys, unsets bare keys, and the last value wins", () => {
  const cases: { base: string[]; overrides: string[]; want: string[] }[] = [
    { base: ["PATH=/bin"], overrides: ["PATH=/usr/bin", "A=1"], want: ["PATH=/usr/bin", "A=1"] },
    { base: ["A=1", "B=2"], overrides: ["A"], want: ["B=2"] },
    { base: [], overrides: ["A=image", "B=x", "A=config"], want: ["A=config", "B=x"] },
    { base: [], overrides: ["A=1", "A"], want: [] },
    { base: ["A=1"], overrides: ["A="], want: ["A="] },
    { base: ["X=a=b"], overrides: ["X=c=d"], want: ["X=c=d"] },
  ];
  for (const c of cases) assert.deepEqual(mergeEnv(c.base, c.overrides), c.want, JSON.stringify(c));
});

test("container args follow the CRI command/args vs image entrypoint/cmd rules", () => {
  const image = { Entrypoint: ["/entry"], Cmd: ["default-arg"] };
  const cases: { name: string; command: string[]; args: string[]; image: object; want: string[] }[] = [
    { name: "image only", command: [], args: [], image, want: ["/entry", "default-arg"] },
    { name: "args replace cmd", command: [], args: ["x"], image, want: ["/entry", "x"] },
    { name: "command replaces entrypoint and cmd", command: ["/bin/sh"], args: [], image, want: ["/bin/sh"] },
    { name: "command and args", command: ["/bin/sh"], args: ["-c", "true"], image, want: ["/bin/sh", "-c", "true"] },
    { name: "cmd only image", command: [], args: [], image: { Cmd: ["sh"] }, want: ["sh"] },
    { name: "entrypoint reset", command: [], args: [], image: { Entrypoint: [""], Cmd: ["sh"] }, want: ["sh"] },
    { name: "args with reset entrypoint", command: [], args: ["ls"], image: { Entrypoint: [""] }, want: ["ls"] },
  ];
  for (const c of cases) assert.deepEqual(containerProcessArgs(c.command, c.args, c.image), c.want, c.name);
});

test("no command anywhere is INVALID_ARGUMENT", () => {
  assert.throws(() => containerProcessArgs([], [], {}), isInvalidArgument);
  assert.throws(() => containerProcessArgs([], [], { Entrypoint: [""] }), isInvalidArgument);
  assert.throws(() => sandboxProcessArgs({}), isInvalidArgument);
  assert.deepEqual(sandboxProcessArgs({ Entrypoint: ["/pause"] }), ["/pause"]);
});

test("exec process keeps the container's process and swaps argv and terminal", () => {
  const spec: OciSpec = {
    ociVersion: "1.2.1",
    process: {
      user: { uid: 1000, gid: 1000, additionalGids: [1000, 10] },
      args: ["/app"],
      env: ["PATH=/bin", "HOSTNAME=pod"],
      cwd: "/work",
      capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] },
      noNewPrivileges: true,
      apparmorProfile: "cri-containerd.apparmor.d",
    },
  };
  const p = buildExecProcessSpec(spec, ["sh", "-c", "id"], false);
  assert.deepEqual(p.args, ["sh", "-c", "id"]);
  assert.equal(p.terminal, false);
  assert.deepEqual(p.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10] });
  assert.equal(p.cwd, "/work");
  assert.deepEqual(p.env, ["PATH=/bin", "HOSTNAME=pod"]);
  assert.equal(p.noNewPrivileges, true);
  assert.equal(p.apparmorProfile, "cri-containerd.apparmor.d");
  assert.deepEqual(spec.process!.args, ["/app"], "the container spec is left alone");

  const t = buildExecProcessSpec(spec, ["sh"], true);
  assert.equal(t.terminal, true);
  assert.deepEqual(t.env, ["PATH=/bin", "HOSTNAME=pod", "TERM=xterm"]);
  assert.throws(() => buildExecProcessSpec(spec, [], false), isInvalidArgument);
});
