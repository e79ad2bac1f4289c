import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, equals } from "@bufbuild/protobuf";
import { ContainerConfigSchema, ContainerResourcesSchema, Signal } from "../../src/gen/runtime/v1/api_pb.js";
import {
  CONTAINER_METADATA_TYPE_URL,
  containerDirs,
  containerLabels,
  decodeContainerMetadata,
  decodeStatusCheckpoint,
  encodeContainerMetadata,
  encodeStatusCheckpoint,
  makeContainerName,
  readStatusCheckpoint,
  writeStatusCheckpoint,
} from "../../src/container/container-metadata.js";
import { newStatus, type ContainerMetadata } from "../../src/container/container-store.js";

const config = create(ContainerConfigSchema, {
  metadata: { name: "app", attempt: 3 },
  image: { image: "busybox:latest" },
  command: ["sh"],
  args: ["-c", "echo hi"],
  envs: [{ key: "A", value: "1" }],
  labels: { tier: "web" },
  logPath: "app/3.log",
  stopSignal: Signal.SIGUSR1,
  linux: { resources: { memoryLimitInBytes: 64n << 20n, cpuShares: 512n } },
});

const meta: ContainerMetadata = {
  id: "c0ffee",
  name: "app_web_default_u-1_3",
  sandboxId: "5a4d",
  config,
  imageRef: "sha256:abc",
  imageName: "127.0.0.1:5000/busybox:latest",
  logPath: "/var/log/pods/x/app/3.log",
  stopSignal: "SIGUSR1",
  processLabel: "",
};

test("container name is container_pod_namespace_uid_attempt", () => {
  assert.equal(makeContainerName({ name: "app", attempt: 3 }, { name: "web", namespace: "default", uid: "u-1" }), "app_web_default_u-1_3");
});

test("metadata extension has containerd's type URL and Go JSON shape, and round-trips", () => {
  const any = encodeContainerMetadata(meta);
  assert.equal(any.typeUrl, CONTAINER_METADATA_TYPE_URL);
  const json = JSON.parse(Buffer.from(any.value).toString("utf8"));
  assert.equal(json.Version, "v1");
  assert.deepEqual(Object.keys(json.Metadata).sort(), ["Config", "ID", "ImageName", "ImageRef", "LogPath", "Name", "ProcessLabel", "SandboxID", "StopSignal"]);
  assert.equal(json.Metadata.SandboxID, "5a4d");
  assert.equal(json.Metadata.Config.log_path, "app/3.log");
  assert.equal(json.Metadata.Config.stop_signal, Signal.SIGUSR1);
  assert.equal(json.Metadata.Config.linux.resources.memory_limit_in_bytes, 64 * 1024 * 1024);
  const back = decodeContainerMetadata(any)!;
  assert.ok(equals(ContainerConfigSchema, back.config, config));
  assert.deepEqual({ ...back, config: undefined }, { ...meta, config: undefined });
});

test("metadata written by containerd (no ImageName) decodes", () => {
  const goJson = {
    Version: "v1",
    Metadata: { ID: "x", Name: "n", SandboxID: "s", Config: { metadata: { name: "n" } }, ImageRef: "sha256:1", LogPath: "", StopSignal: "", ProcessLabel: "" },
  };
  const any = { $typeName: "google.protobuf.Any", typeUrl: CONTAINER_METADATA_TYPE_URL, value: Buffer.from(JSON.stringify(goJson)) } as const;
  const m = decodeContainerMetadata(any)!;
  assert.equal(m.config.metadata?.name, "n");
  assert.equal(m.imageName, "");
  assert.equal(decodeContainerMetadata({ ...any, typeUrl: "other" }), undefined);
});

test("labels: image labels, overridden by config labels, then the kind", () => {
  const long = "x".repeat(5000);
  assert.deepEqual(containerLabels({ a: "config", b: "2" }, { a: "image", c: "3", [long]: "v" }), {
    a: "config",
    b: "2",
    c: "3",
    "io.cri-containerd.kind": "container",
  });
});

test("container dirs: persistent under root_dir, FIFOs under state_dir", () => {
  assert.deepEqual(containerDirs("/var/lib/crib", "/run/crib", "c1"), {
    root: "/var/lib/crib/containers/c1",
    volatile: "/run/crib/containers/c1",
    io: "/run/crib/containers/c1/io",
  });
});

test("status checkpoint keeps nanosecond timestamps exact and round-trips", async () => {
  const s = newStatus(1_700_000_000_123_456_789n);
  s.pid = 4242;
  s.startedAt = 1_700_000_001_000_000_001n;
  s.finishedAt = 1_700_000_002_999_999_999n;
  s.exitCode = 137;
  s.reason = "OOMKilled";
  s.message = "bye";
  s.resources = create(ContainerResourcesSchema, { linux: { memoryLimitInBytes: 1n << 30n, cpuQuota: 50000n } });
  const text = encodeStatusCheckpoint(s);
  assert.match(text, /"CreatedAt":1700000000123456789,/);
  assert.match(text, /"FinishedAt":1700000002999999999,/);
  const json = JSON.parse(text);
  assert.equal(json.Version, "v1");
  assert.equal(json.Resources.linux.memory_limit_in_bytes, 1 << 30);

  const dir = await mkdtemp(join(tmpdir(), "crib-status-"));
  try {
    await writeStatusCheckpoint(dir, s);
    assert.equal(await readFile(join(dir, "status"), "utf8"), text);
    const back = await readStatusCheckpoint(dir);
    assert.equal(back.createdAt, s.createdAt);
    assert.equal(back.startedAt, s.startedAt);
    assert.equal(back.finishedAt, s.finishedAt);
    assert.equal(back.exitCode, 137);
    assert.equal(back.reason, "OOMKilled");
    assert.equal(back.pid, 4242);
    assert.ok(equals(ContainerResourcesSchema, back.resources!, s.resources));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("status checkpoint from containerd (null resources) decodes; other versions are refused", () => {
  const s = decodeStatusCheckpoint('{"Version":"v1","Pid":0,"CreatedAt":1700000000000000001,"StartedAt":0,"FinishedAt":0,"ExitCode":0,"Reason":"","Message":"","Resources":null}');
  assert.equal(s.createdAt, 1_700_000_000_000_000_001n);
  assert.equal(s.resources, undefined);
  assert.throws(() => decodeStatusCheckpoint('{"Version":"v2"}'), /unsupported status version/);
});
