import { test } from "node:test";
import assert from "node:assert/strict";
import { inUserNamespace, kernelAtLeast, parseProcStatus } from "../../src/oci/spec-host-facts.js";
import { mountContaining, propagationOf } from "../../src/container/container-spec-inputs.js";
import { CappedBuffer } from "../../src/io/capped-buffer.js";
import type { MountInfo } from "../../src/network/netns.js";

test("parseProcStatus reads CapEff and whether seccomp exists", () => {
  const text = "Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\nSeccomp:\t0\n";
  assert.deepEqual(parseProcStatus(text), { capEff: "000001fffeffffff", seccomp: true });
  assert.deepEqual(parseProcStatus("Name:\tx\n"), { capEff: undefined, seccomp: false });
});

test("kernelAtLeast compares major.minor", () => {
  const table: [string, boolean][] = [
    ["5.10.0-28-amd64", true],
    ["4.8.0", true],
    ["4.7.10", false],
    ["3.19.0", false],
    ["garbage", false],
  ];
  for (const [release, want] of table) assert.equal(kernelAtLeast(release, 4, 8), want, release);
});

test("inUserNamespace: only the identity map of the full range is the initial namespace", () => {
  assert.equal(inUserNamespace("         0          0 4294967295\n"), false);
  assert.equal(inUserNamespace("0 100000 65536\n"), true);
});

const mi = (mountPoint: string, optionalFields: string[] = []): MountInfo => ({ mountId: 0, parentId: 0, mountPoint, optionalFields, fsType: "ext4" });

test("mountContaining picks the deepest mount point holding the path, the last one mounted on ties", () => {
  const mounts = [mi("/"), mi("/var"), mi("/var/lib", ["shared:1"]), mi("/var/lib", ["master:2"]), mi("/var/library")];
  assert.equal(mountContaining(mounts, "/var/lib/x")?.optionalFields[0], "master:2");
  assert.equal(mountContaining(mounts, "/var/lib")?.optionalFields[0], "master:2");
  assert.equal(mountContaining(mounts, "/var/libx")?.mountPoint, "/var");
  assert.equal(mountContaining(mounts, "/etc")?.mountPoint, "/");
});

test("propagationOf reads shared and master tags", () => {
  assert.equal(propagationOf(mi("/", ["shared:3"])), "shared");
  assert.equal(propagationOf(mi("/", ["master:3"])), "slave");
  assert.equal(propagationOf(mi("/")), "private");
  assert.equal(propagationOf(undefined), undefined);
});

test("CappedBuffer keeps the first bytes up to its limit and drops the rest", () => {
  const c = new CappedBuffer(10);
  c.push(Buffer.from("hello "));
  c.push(Buffer.from("world, and more"));
  c.push(Buffer.from("dropped"));
  assert.equal(c.bytes().toString(), "hello worl");
  assert.equal(c.truncated, true);
  const small = new CappedBuffer(10);
  small.push(Buffer.from("ok"));
  assert.equal(small.bytes().toString(), "ok");
  assert.equal(small.truncated, false);
});
