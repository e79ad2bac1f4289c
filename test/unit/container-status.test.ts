import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { ContainerConfigSchema, ContainerState, ContainerStatusResponseSchema, Signal } from "../../src/gen/runtime/v1/api_pb.js";
import { OptionsSchema as RuncOptionsSchema } from "../../src/gen/github.com/containerd/containerd/api/types/runc/options/oci_pb.js";
import { protoAny } from "../../src/containerd/any.js";
import { containerInfoJson, containerStatusReply, criContainerStatus, splitImageReferences } from "../../src/container/container-status.js";
import { criContainer, matchesFilter } from "../../src/container/container-list.js";
import { resourcesFromSpec } from "../../src/container/container-resources.js";
import { Container, ContainerStore, newStatus, type ContainerStatus } from "../../src/container/container-store.js";
import type { LocalImage } from "../../src/common/deps.js";
import type { OciSpec } from "../../src/oci/spec-types.js";

const spec: OciSpec = {
  ociVersion: "1.2.1",
  process: { user: { uid: 1000, gid: 2000, additionalGids: [2000, 3000] }, cwd: "/", oomScoreAdj: 500 },
  linux: {
    resources: {
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0-1" },
      memory: { limit: 64 << 20, swap: 64 << 20 },
      hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }],
      unified: { "memory.high": "1000" },
    },
  },
};

function container(patch: Partial<ContainerStatus> = {}, stopSignal = Signal.RUNTIME_DEFAULT, metaStop = ""): Container {
  const config = create(ContainerConfigSchema, {
    metadata: { name: "app", attempt: 1 },
    image: { image: "sha256:img" },
    labels: { a: "1", b: "2" },
    annotations: { x: "y" },
    mounts: [{ containerPath: "/data", hostPath: "/tmp" }],
    stopSignal,
  });
  return new Container(
    { id: "cid", name: "n", sandboxId: "sid", config, imageRef: "sha256:img", imageName: "r/busybox:1", logPath: "/logs/app.log", stopSignal: metaStop, processLabel: "" },
    { ...newStatus(10n), ...patch },
    { spec, snapshotter: "overlayfs", snapshotKey: "cid", runtimeType: "io.containerd.runc.v2", runtimeOptions: protoAny(RuncOptionsSchema, { systemdCgroup: true }) },
  );
}

const image: LocalImage = {
  id: "sha256:img",
  name: "r/busybox:1",
  chainId: "sha256:chain",
  config: {},
  references: ["r/busybox@sha256:manifest", "r/busybox:1", "r/busybox:latest"],
};

test("status times and reason by state, as containerd reports them", () => {
  const table: [Partial<ContainerStatus>, ContainerState, bigint, bigint, string][] = [
    [{}, ContainerState.CONTAINER_CREATED, 0n, 0n, ""],
    [{ startedAt: 20n, pid: 7 }, ContainerState.CONTAINER_RUNNING, 20n, 0n, ""],
    [{ startedAt: 20n, finishedAt: 30n, exitCode: 0 }, ContainerState.CONTAINER_EXITED, 20n, 30n, "Completed"],
    [{ startedAt: 20n, finishedAt: 30n, exitCode: 2 }, ContainerState.CONTAINER_EXITED, 20n, 30n, "Error"],
    [{ startedAt: 20n, finishedAt: 30n, exitCode: 137, reason: "OOMKilled" }, ContainerState.CONTAINER_EXITED, 20n, 30n, "OOMKilled"],
    [{ finishedAt: 30n, exitCode: 128, reason: "StartError" }, ContainerState.CONTAINER_EXITED, 0n, 30n, "StartError"],
    [{ unknown: true, exitCode: 255, reason: "Unknown" }, ContainerState.CONTAINER_UNKNOWN, 0n, 0n, "Unknown"],
  ];
  for (const [patch, state, started, finished, reason] of table) {
    const s = criContainerStatus(container(patch), undefined);
    assert.equal(s.state, state);
    assert.equal(s.startedAt, started);
    assert.equal(s.finishedAt, finished);
    assert.equal(s.reason, reason);
    assert.equal(s.createdAt, 10n);
  }
});

test("status: image tag and digest from the image's references, user from the spec, CRI fields from the config", () => {
  const s = criContainerStatus(container(), image);
  assert.equal(s.image?.image, "r/busybox:1");
  assert.equal(s.imageRef, "r/busybox@sha256:manifest");
  assert.equal(s.imageId, "sha256:img");
  assert.deepEqual(s.user?.linux, { uid: 1000n, gid: 2000n, supplementalGroups: [2000n, 3000n] });
  assert.deepEqual(s.labels, { a: "1", b: "2" });
  assert.equal(s.logPath, "/logs/app.log");
  assert.equal(s.mounts?.length, 1);
  // Without the image: the config's image spec and the image id.
  const gone = criContainerStatus(container(), undefined);
  assert.equal(gone.image?.image, "sha256:img");
  assert.equal(gone.imageRef, "sha256:img");
});

test("status: stop signal from the config, else the recorded image signal, else SIGTERM", () => {
  assert.equal(criContainerStatus(container({}, Signal.SIGUSR1, "SIGQUIT"), undefined).stopSignal, Signal.SIGUSR1);
  assert.equal(criContainerStatus(container({}, Signal.RUNTIME_DEFAULT, "SIGQUIT"), undefined).stopSignal, Signal.SIGQUIT);
  assert.equal(criContainerStatus(container(), undefined).stopSignal, Signal.SIGTERM);
});

test("verbose info has containerd's keys, the pid and the runtime options in Go JSON", () => {
  const info = JSON.parse(containerInfoJson(container({ startedAt: 2n, pid: 42 })));
  assert.deepEqual(Object.keys(info).sort(), ["config", "pid", "removing", "runtimeOptions", "runtimeSpec", "runtimeType", "sandboxID", "snapshotKey", "snapshotter"]);
  assert.equal(info.pid, 42);
  assert.equal(info.sandboxID, "sid");
  assert.deepEqual(info.runtimeOptions, { systemd_cgroup: true });
  assert.equal(info.config.metadata.name, "app");
  assert.equal(info.runtimeSpec.process.user.uid, 1000);
});

test("splitImageReferences tells tags from digests", () => {
  assert.deepEqual(splitImageReferences(image.references), { tags: ["r/busybox:1", "r/busybox:latest"], digests: ["r/busybox@sha256:manifest"] });
});

test("list filter: id, pod, state and every label selector pair", () => {
  const c = container({ startedAt: 5n });
  type Filter = Parameters<typeof matchesFilter>[1];
  const none: Filter = { id: "", podSandboxId: "", state: undefined, labelSelector: {} };
  const table: [Partial<Omit<Filter, "state">> & { state?: { state: ContainerState } }, boolean][] = [
    [{}, true],
    [{ id: "cid" }, true],
    [{ id: "other" }, false],
    [{ podSandboxId: "sid" }, true],
    [{ podSandboxId: "sid2" }, false],
    [{ state: { state: ContainerState.CONTAINER_RUNNING } }, true],
    [{ state: { state: ContainerState.CONTAINER_EXITED } }, false],
    [{ labelSelector: { a: "1" } }, true],
    [{ labelSelector: { a: "1", b: "2" } }, true],
    [{ labelSelector: { a: "1", b: "3" } }, false],
    [{ labelSelector: { c: "" } }, false],
  ];
  for (const [patch, want] of table) assert.equal(matchesFilter(c, { ...none, ...patch } as Filter), want, JSON.stringify(patch));
  const listed = criContainer(c);
  assert.equal(listed.podSandboxId, "sid");
  assert.equal(listed.state, ContainerState.CONTAINER_RUNNING);
});

test("resources in the status are read back from the spec", () => {
  const r = resourcesFromSpec(spec).linux!;
  assert.equal(r.cpuShares, 512n);
  assert.equal(r.cpuQuota, 50000n);
  assert.equal(r.cpuPeriod, 100000n);
  assert.equal(r.cpusetCpus, "0-1");
  assert.equal(r.memoryLimitInBytes, 64n << 20n);
  assert.equal(r.memorySwapLimitInBytes, 64n << 20n);
  assert.equal(r.oomScoreAdj, 500n);
  assert.deepEqual(r.hugepageLimits.map((h) => [h.pageSize, h.limit]), [["2MB", 4n << 20n]]);
  assert.deepEqual(r.unified, { "memory.high": "1000" });
  assert.equal(resourcesFromSpec({ ociVersion: "1" }).linux, undefined);
});

test("the cached ContainerStatus reply is the encoded { status }, and follows status and image changes", () => {
  const c = container();
  const expected = (img: LocalImage | undefined) => Buffer.from(toBinary(ContainerStatusResponseSchema, create(ContainerStatusResponseSchema, { status: criContainerStatus(c, img), info: {} }))).toString("hex");
  assert.equal(containerStatusReply(c, image).bytes.toString("hex"), expected(image));
  assert.equal(containerStatusReply(c, image).bytes.toString("hex"), expected(image), "from the cache");
  // The image gone: the reply falls back to the config's image spec.
  assert.equal(containerStatusReply(c, undefined).bytes.toString("hex"), expected(undefined));
  const store = new ContainerStore({ write: async () => undefined, failed: () => undefined });
  store.update(c, (s) => {
    s.pid = 7;
    s.startedAt = 11n;
  });
  assert.equal(containerStatusReply(c, image).bytes.toString("hex"), expected(image));
  assert.equal(criContainerStatus(c, image).state, ContainerState.CONTAINER_RUNNING);
});
