// The pure parts of the crash clean-up: which cgroup dirs a removal may rmdir, and which
// processes are shims of which namespace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cgroupfsPath, cgroupMountPoints } from "../../src/common/cgroup-leftovers.js";
import { parseComm, parsePpid, parseShimArgv } from "../../src/container/shim-sweep.js";

test("cgroupfsPath: a cgroupfs path is kept, the systemd form, roots and climbs are not", () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    ["/kubepods/pod1/abc", "/kubepods/pod1/abc"],
    ["/kubepods//pod1/abc/", "/kubepods/pod1/abc"],
    ["/k8s.io/abc", "/k8s.io/abc"],
    ["kubepods.slice:cri-containerd:abc", undefined],
    ["/", undefined],
    ["", undefined],
    [undefined, undefined],
    ["/a/../../etc", undefined],
    ["relative/abc", undefined],
  ];
  for (const [input, want] of cases) assert.equal(cgroupfsPath(input), want, String(input));
});

test("cgroupMountPoints: every cgroup v1 hierarchy and the v2 one, nothing else", () => {
  const mountinfo = [
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    "50 27 0:4 net:[1] /run/netns/cni-1 rw - nsfs nsfs rw",
    "",
  ].join("\n");
  assert.deepEqual(cgroupMountPoints(mountinfo), ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]);
});

test("parseShimArgv: the shim daemon's flags; helpers (start, delete) and other processes are not shims", () => {
  const daemon = ["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "abc", "-address", "/run/containerd/containerd.sock"];
  assert.deepEqual(parseShimArgv(7, daemon), { pid: 7, id: "abc", namespace: "k8s.io", address: "/run/containerd/containerd.sock" });
  assert.equal(parseShimArgv(7, [...daemon, "start"]), undefined);
  assert.equal(parseShimArgv(7, [...daemon.slice(0, 5), "-bundle", "/b", "delete"]), undefined);
  assert.equal(parseShimArgv(7, ["/usr/bin/containerd", "-namespace", "k8s.io", "-id", "abc"]), undefined);
  assert.equal(parseShimArgv(7, ["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io"]), undefined);
});

test("parsePpid: the parent pid, whatever the command name holds", () => {
  assert.equal(parsePpid("123 (sh) S 45 123 123 0 -1"), 45);
  assert.equal(parsePpid("123 (a) b (c) S 9 1 1 0"), 9);
});

test("parseComm: the command name, spaces and parentheses included, as the shim sweep filters on it", () => {
  assert.equal(parseComm("4242 (containerd-shim) S 1 4242 4242 0 -1"), "containerd-shim");
  assert.equal(parseComm("123 (a) b (c) S 9 1 1 0"), "a) b (c");
  assert.equal(parseComm("77 (sleep) S 4242 77 77 0"), "sleep");
});
