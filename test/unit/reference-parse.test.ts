import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, codeOf } from "../../src/errors.js";
import {
  digestProblem,
  normalizeReference,
  parseAnyReference,
  parseDockerRef,
  repoDigestAndTag,
  repoTagsAndDigests,
} from "../../src/image/reference.js";

const D = "sha256:" + "ab".repeat(32);
const D2 = "sha256:" + "cd".repeat(32);

test("parseDockerRef normalises as containerd's CRI does", () => {
  const cases: Array<[string, string]> = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/busybox:1", "docker.io/library/busybox:1"],
    ["myuser/app", "docker.io/myuser/app:latest"],
    ["registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/a/b/c:v1", "localhost:5000/a/b/c:v1"],
    ["127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest"],
    ["[::1]:5000/busybox:x", "[::1]:5000/busybox:x"],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    // name:tag@digest: the digest wins, the tag is dropped.
    [`127.0.0.1:5000/busybox:1.0@${D}`, `127.0.0.1:5000/busybox@${D}`],
    ["a.b-c/d__e/f-g.h:tag_1.2-3", "a.b-c/d__e/f-g.h:tag_1.2-3"],
    ["Example.com/app", "Example.com/app:latest"],
  ];
  for (const [input, want] of cases) assert.equal(normalizeReference(input), want, input);
});

test("parseDockerRef splits domain, path, tag and digest", () => {
  assert.deepEqual(parseDockerRef("127.0.0.1:5000/x/busybox:1.0"), { domain: "127.0.0.1:5000", path: "x/busybox", tag: "1.0" });
  assert.deepEqual(parseDockerRef(`busybox:1@${D}`), { domain: "docker.io", path: "library/busybox", digest: D });
});

test("malformed references are INVALID_ARGUMENT with distribution's words", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /repository name must have at least one component|invalid reference format/],
    ["Busybox", /must be lowercase/],
    ["docker.io/Library/busybox", /must be lowercase/],
    ["busybox:", /invalid reference format/],
    ["busybox::1", /invalid reference format/],
    ["busybox@sha256:abc", /invalid reference format/],
    ["busybox@sha256:" + "a".repeat(63), /invalid checksum digest length/],
    ["busybox@sha256:" + "A".repeat(64), /invalid checksum digest format/],
    ["busybox@sha256:" + "a".repeat(66), /invalid checksum digest length/],
    ["busybox@md5:" + "a".repeat(32), /unsupported digest algorithm/],
    ["ab".repeat(32), /cannot specify 64-byte hexadecimal strings/],
    ["busy box", /invalid reference format/],
    ["-busybox", /invalid reference format/],
    ["busybox:" + "t".repeat(129), /invalid reference format/],
    ["a/" + "b".repeat(260), /must not be more than 255 characters/],
    ["http://registry/busybox", /invalid reference format/],
  ];
  for (const [input, want] of cases) {
    assert.throws(
      () => parseDockerRef(input),
      (e: unknown) => codeOf(e) === Code.INVALID_ARGUMENT && want.test((e as Error).message) && (e as Error).message.includes(JSON.stringify(input)),
      input,
    );
  }
});

test("digestProblem follows go-digest's Validate", () => {
  const cases: Array<[string, string | undefined]> = [
    [D, undefined],
    ["sha512:" + "0".repeat(128), undefined],
    ["sha384:" + "0".repeat(96), undefined],
    ["sha256:", "invalid checksum digest format"],
    [":abc", "invalid checksum digest format"],
    ["sha256" + "0".repeat(64), "invalid checksum digest format"],
    ["sha256:" + "0".repeat(63), "invalid checksum digest length"],
    ["sha256:" + "g".repeat(64), "invalid checksum digest format"],
    ["foo:" + "0".repeat(64), "unsupported digest algorithm"],
  ];
  for (const [input, want] of cases) assert.equal(digestProblem(input), want, input);
});

test("parseAnyReference tells image ids from names", () => {
  assert.deepEqual(parseAnyReference(D), { kind: "digest", digest: D });
  assert.deepEqual(parseAnyReference("ab".repeat(32)), { kind: "digest", digest: D });
  assert.equal(parseAnyReference("busybox").kind, "named");
});

test("repoDigestAndTag records the tag only for tagged pulls and always a digest", () => {
  const cases: Array<[string, { repoDigest: string; repoTag: string }]> = [
    ["busybox", { repoTag: "docker.io/library/busybox:latest", repoDigest: `docker.io/library/busybox@${D2}` }],
    ["h:1/x:1.0", { repoTag: "h:1/x:1.0", repoDigest: `h:1/x@${D2}` }],
    [`h:1/x@${D}`, { repoTag: "", repoDigest: `h:1/x@${D}` }],
    [`h:1/x:1.0@${D}`, { repoTag: "", repoDigest: `h:1/x@${D}` }],
  ];
  for (const [input, want] of cases) assert.deepEqual(repoDigestAndTag(parseDockerRef(input), D2), want, input);
});

test("repoTagsAndDigests sorts containerd names into CRI fields and skips ids and junk", () => {
  const names = [D, "docker.io/library/busybox:latest", `docker.io/library/busybox@${D2}`, "import-2024-01-01", "h:1/x:1.0", "Not A Ref"];
  assert.deepEqual(repoTagsAndDigests(names), {
    // "import-2024-01-01" is a valid name but neither tagged nor digested.
    repoTags: ["docker.io/library/busybox:latest", "h:1/x:1.0"],
    repoDigests: [`docker.io/library/busybox@${D2}`],
  });
});
