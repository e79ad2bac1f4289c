import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { NamespaceMode, PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { decodeSandboxMetadata, encodeSandboxMetadata, makeSandboxName, SANDBOX_METADATA_TYPE_URL } from "../../src/pod/sandbox-metadata.js";
import type { SandboxMetadata } from "../../src/pod/sandbox-store.js";

const config = create(PodSandboxConfigSchema, {
  metadata: { name: "web", uid: "u-1", namespace: "default", attempt: 2 },
  hostname: "web-0",
  logDirectory: "/var/log/pods/x",
  labels: { app: "web" },
  annotations: { a: "b" },
  linux: {
    cgroupParent: "/kubepods/pod-u-1",
    securityContext: { namespaceOptions: { network: NamespaceMode.NODE }, runAsUser: { value: 1000n } },
    resources: { cpuPeriod: 100000n, cpuQuota: 50000n, memoryLimitInBytes: 67108864n },
  },
});

const meta: SandboxMetadata = {
  id: "abc",
  name: makeSandboxName(config.metadata!),
  config,
  netnsPath: "/run/crib/netns/cni-1",
  ip: "10.88.0.5",
  additionalIps: ["fd00::5"],
  runtimeHandler: "",
  cniResult: { Interfaces: {} },
  processLabel: "",
};

test("sandbox name is name_namespace_uid_attempt", () => {
  assert.equal(meta.name, "web_default_u-1_2");
});

test("metadata is written in containerd's Go JSON shape", () => {
  const any = encodeSandboxMetadata(meta);
  assert.equal(any.typeUrl, SANDBOX_METADATA_TYPE_URL);
  const json = JSON.parse(Buffer.from(any.value).toString("utf8"));
  assert.equal(json.Version, "v1");
  assert.equal(json.Metadata.ID, "abc");
  assert.equal(json.Metadata.NetNSPath, "/run/crib/netns/cni-1");
  // snake_case keys, enums and int64 as numbers, zero values omitted (gogo + encoding/json).
  assert.equal(json.Metadata.Config.log_directory, "/var/log/pods/x");
  assert.equal(json.Metadata.Config.linux.cgroup_parent, "/kubepods/pod-u-1");
  assert.equal(json.Metadata.Config.linux.security_context.namespace_options.network, 2);
  assert.deepEqual(json.Metadata.Config.linux.security_context.run_as_user, { value: 1000 });
  assert.equal(json.Metadata.Config.linux.resources.cpu_quota, 50000);
  assert.equal(json.Metadata.Config.metadata.attempt, 2);
  assert.equal("port_mappings" in json.Metadata.Config, false);
});

test("metadata round-trips", () => {
  const back = decodeSandboxMetadata(encodeSandboxMetadata(meta));
  assert.ok(back);
  assert.equal(back.id, meta.id);
  assert.equal(back.name, meta.name);
  assert.deepEqual(back.additionalIps, ["fd00::5"]);
  assert.equal(back.config.hostname, "web-0");
  assert.equal(back.config.linux?.securityContext?.runAsUser?.value, 1000n);
  assert.equal(back.config.linux?.securityContext?.namespaceOptions?.network, NamespaceMode.NODE);
  assert.equal(back.config.linux?.resources?.memoryLimitInBytes, 67108864n);
  assert.deepEqual(back.config.labels, { app: "web" });
});

test("a foreign or broken extension is not metadata", () => {
  assert.equal(decodeSandboxMetadata(undefined), undefined);
  const other = encodeSandboxMetadata(meta);
  other.typeUrl = "something/else";
  assert.equal(decodeSandboxMetadata(other), undefined);
});

test("the run record (containerd 1.6) round-trips the metadata on disk and is gone once removed", async () => {
  const { mkdtemp, rm, readdir } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { readRunRecord, removeRunRecord, writeRunRecord } = await import("../../src/pod/sandbox-run-record.js");
  const dir = await mkdtemp(join(tmpdir(), "crib-run-record-"));
  try {
    const sandboxDir = join(dir, "sandboxes", meta.id);
    assert.equal(await readRunRecord(sandboxDir), undefined);
    await writeRunRecord(sandboxDir, meta);
    const back = await readRunRecord(sandboxDir);
    assert.equal(back?.netnsPath, meta.netnsPath);
    assert.equal(back?.id, meta.id);
    assert.equal(back?.config.metadata?.uid, "u-1");
    await removeRunRecord(sandboxDir);
    assert.deepEqual(await readdir(sandboxDir), []);
    assert.equal(await readRunRecord(sandboxDir), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
