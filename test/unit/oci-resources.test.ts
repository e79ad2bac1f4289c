import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, CriError } from "../../src/errors.js";
import { HugepageLimitSchema, LinuxContainerResourcesSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { applyCriResources, cgroupsPath, oomScoreAdj } from "../../src/oci/resources.js";
import { criDevices, deviceNodeFromStat } from "../../src/oci/devices.js";

const host = {
  swapControllerAvailable: true,
  hugetlbControllerPresent: true,
  disableHugetlbController: false,
  tolerateMissingHugetlbController: true,
};

test("cgroups path for both cgroup drivers", () => {
  const cases: [string, string][] = [
    ["/kubepods/burstable/pod123", "/kubepods/burstable/pod123/c1"],
    ["/kubepods/burstable/pod123/", "/kubepods/burstable/pod123/c1"],
    ["kubepods-besteffort-pod123.slice", "kubepods-besteffort-pod123.slice:cri-containerd:c1"],
    ["/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice", "kubepods-burstable-pod1.slice:cri-containerd:c1"],
  ];
  for (const [parent, want] of cases) assert.equal(cgroupsPath(parent, "c1"), want, parent);
});

test("oom_score_adj is restricted to crib's own when asked", () => {
  const cases: [number, boolean, number, number][] = [
    [-998, false, -500, -998],
    [-998, true, -500, -500],
    [1000, true, -500, 1000],
    [-998, true, -999, -998],
  ];
  for (const [preferred, restrict, current, want] of cases) assert.equal(oomScoreAdj(preferred, restrict, current), want);
});

test("CRI resources map onto the OCI linux.resources", () => {
  const r = create(LinuxContainerResourcesSchema, {
    cpuPeriod: 100000n,
    cpuQuota: 50000n,
    cpuShares: 512n,
    memoryLimitInBytes: 256n * 1024n * 1024n,
    cpusetCpus: "0-1",
    cpusetMems: "0",
    unified: { "memory.high": "200000000" },
    hugepageLimits: [create(HugepageLimitSchema, { pageSize: "2MB", limit: 4194304n })],
  });
  assert.deepEqual(applyCriResources({ devices: [{ allow: false, access: "rwm" }] }, r, host), {
    devices: [{ allow: false, access: "rwm" }],
    cpu: { period: 100000, quota: 50000, shares: 512, cpus: "0-1", mems: "0" },
    memory: { limit: 268435456, swap: 268435456 }, // no swapping beyond the limit by default
    hugepageLimits: [{ pageSize: "2MB", limit: 4194304 }],
    unified: { "memory.high": "200000000" },
  });
});

test("zero means unset, swap needs the controller, hugepages follow the hugetlb settings", () => {
  const empty = create(LinuxContainerResourcesSchema, {});
  assert.deepEqual(applyCriResources(undefined, empty, host), { cpu: {}, memory: {} });
  assert.equal(applyCriResources(undefined, undefined, host), undefined);

  const mem = create(LinuxContainerResourcesSchema, { memoryLimitInBytes: 1000n });
  assert.deepEqual(applyCriResources(undefined, mem, { ...host, swapControllerAvailable: false })!.memory, { limit: 1000 });
  const swap = create(LinuxContainerResourcesSchema, { memoryLimitInBytes: 1000n, memorySwapLimitInBytes: 3000n });
  assert.deepEqual(applyCriResources(undefined, swap, host)!.memory, { limit: 1000, swap: 3000 });

  const huge = create(LinuxContainerResourcesSchema, { hugepageLimits: [create(HugepageLimitSchema, { pageSize: "1GB", limit: 1n })] });
  assert.equal(applyCriResources(undefined, huge, { ...host, disableHugetlbController: true })!.hugepageLimits, undefined);
  assert.equal(applyCriResources(undefined, huge, { ...host, hugetlbControllerPresent: false })!.hugepageLimits, undefined);
  assert.throws(
    () => applyCriResources(undefined, huge, { ...host, hugetlbControllerPresent: false, tolerateMissingHugetlbController: false }),
    (e: unknown) => e instanceof CriError && e.code === Code.FAILED_PRECONDITION,
  );
});

test("device nodes from stat and CRI devices", () => {
  // /dev/null: char 1:3, mode 0666
  const devNull = deviceNodeFromStat("", { mode: 0o020666, rdev: 0x103, uid: 0, gid: 0 });
  assert.deepEqual(devNull, { relPath: "", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 });
  // /dev/nvme0n1p300: block 259:300 needs the extended minor encoding
  const big = deviceNodeFromStat("", { mode: 0o060660, rdev: (259 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12), uid: 0, gid: 6 });
  assert.deepEqual([big!.type, big!.major, big!.minor], ["b", 259, 300]);
  assert.equal(deviceNodeFromStat("", { mode: 0o100644, rdev: 0, uid: 0, gid: 0 }), null, "regular files are no devices");

  const nodes = {
    "/dev/null": [devNull!],
    "/dev/snd": [
      { relPath: "controlC0", type: "c" as const, major: 116, minor: 2, fileMode: 0o660, uid: 0, gid: 29 },
      { relPath: "by-id/x", type: "c" as const, major: 116, minor: 3, fileMode: 0o660, uid: 0, gid: 29 },
    ],
  };
  const got = criDevices(
    [
      { hostPath: "/dev/null", containerPath: "/dev/xnull", permissions: "rw" },
      { hostPath: "/dev/snd", containerPath: "/dev/snd", permissions: "rwm" },
    ],
    nodes,
    { uid: 1000, gid: 0 },
  );
  assert.deepEqual(
    got.devices.map((d) => [d.path, d.uid, d.gid]),
    [
      ["/dev/xnull", 1000, 0],
      ["/dev/snd/controlC0", 1000, 29],
      ["/dev/snd/by-id/x", 1000, 29],
    ],
  );
  assert.deepEqual(got.cgroupRules[0], { allow: true, type: "c", major: 1, minor: 3, access: "rw" });
  assert.throws(
    () => criDevices([{ hostPath: "/dev/nope", containerPath: "/dev/nope", permissions: "rw" }], nodes),
    (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT,
  );
});
