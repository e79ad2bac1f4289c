import { test } from "node:test";
import assert from "node:assert/strict";
import { findMount, parseMountInfo, unescapeMountPath } from "../../src/network/netns.js";

const SAMPLE = [
  "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
  "42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw",
  "43 42 0:4 net:[4026532177] /run/netns/cni-1 rw shared:1 - nsfs nsfs rw",
  "44 27 0:4 net:[4026532178] /tmp/with\\040space rw master:3 propagate_from:2 - nsfs nsfs rw",
  "45 42 0:4 net:[4026532179] /run/netns/cni-1 rw - nsfs nsfs rw",
  "",
].join("\n");

test("parseMountInfo reads mount point, optional fields and fs type", () => {
  const mounts = parseMountInfo(SAMPLE);
  assert.equal(mounts.length, 5);
  assert.deepEqual(mounts[1], { mountId: 42, parentId: 27, mountPoint: "/run/netns", optionalFields: ["shared:1"], fsType: "ext4" });
  assert.deepEqual(mounts[0]!.optionalFields, []);
  assert.deepEqual(mounts[3]!.optionalFields, ["master:3", "propagate_from:2"]);
  assert.equal(mounts[3]!.mountPoint, "/tmp/with space");
});

test("findMount returns the topmost mount at an exact path", () => {
  const mounts = parseMountInfo(SAMPLE);
  const cases: [string, number | undefined][] = [
    ["/run/netns", 42],
    ["/run/netns/cni-1", 45],
    ["/run", undefined],
    ["/run/netns/", undefined],
  ];
  for (const [path, id] of cases) assert.equal(findMount(mounts, path)?.mountId, id, path);
});

test("unescapeMountPath decodes the kernel's octal escapes", () => {
  const cases: [string, string][] = [
    ["/a\\040b", "/a b"],
    ["/tab\\011x", "/tab\tx"],
    ["/back\\134slash", "/back\\slash"],
    ["/plain", "/plain"],
  ];
  for (const [input, want] of cases) assert.equal(unescapeMountPath(input), want);
});
