// The trace recorder's field pickers (containerd requests and CRI requests), the printed
// call trees, and background work written as pseudo-RPC lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { requestFields } from "../../src/trace/request-fields.js";
import { criRequestFields } from "../../src/trace/cri-fields.js";
import { formatLine, parseTrace } from "../../src/trace/print.js";
import { TraceRecorder, type TraceLine } from "../../src/trace/recorder.js";
import { protoAny } from "../../src/containerd/any.js";
import { applyToml, DEFAULTS, parseCli, USAGE } from "../../src/config.js";
import { recordCall, type TracedCall } from "../../src/containerd/trace.js";
import { CreateContainerRequestSchema, UpdateContainerRequestSchema } from "../../src/gen/github.com/containerd/containerd/api/services/containers/v1/containers_pb.js";
import { CreateTaskRequestSchema, ExecProcessRequestSchema, KillRequestSchema } from "../../src/gen/github.com/containerd/containerd/api/services/tasks/v1/tasks_pb.js";
import { PrepareSnapshotRequestSchema } from "../../src/gen/github.com/containerd/containerd/api/services/snapshots/v1/snapshots_pb.js";
import { CreateRequestSchema as LeaseCreateSchema } from "../../src/gen/github.com/containerd/containerd/api/services/leases/v1/leases_pb.js";
import { TransferRequestSchema } from "../../src/gen/github.com/containerd/containerd/api/services/transfer/v1/transfer_pb.js";
import { OCIRegistrySchema } from "../../src/gen/github.com/containerd/containerd/api/types/transfer/registry_pb.js";
import { ImageStoreSchema } from "../../src/gen/github.com/containerd/containerd/api/types/transfer/imagestore_pb.js";
import { NamespaceMode, PullImageRequestSchema, RunPodSandboxRequestSchema, ExecRequestSchema } from "../../src/gen/runtime/v1/api_pb.js";

test("containerd request fields: ids, keys, leases and image names, never specs", () => {
  const cases: { method: string; req: unknown; want: Record<string, string> }[] = [
    {
      method: "containers.v1.Containers/Create",
      req: create(CreateContainerRequestSchema, {
        container: {
          id: "c1",
          image: "docker.io/library/busybox:latest",
          snapshotter: "overlayfs",
          snapshotKey: "c1",
          runtime: { name: "io.containerd.runc.v2" },
          labels: { "io.cri-containerd.kind": "container", other: "x" },
          spec: { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new Uint8Array([1, 2]) },
        },
      }),
      want: { id: "c1", image: "docker.io/library/busybox:latest", snapshotter: "overlayfs", snapshotKey: "c1", "runtime.name": "io.containerd.runc.v2", kind: "container" },
    },
    {
      method: "containers.v1.Containers/Update",
      req: create(UpdateContainerRequestSchema, { container: { id: "c1" }, updateMask: { paths: ["spec"] } }),
      want: { id: "c1", fields: "spec" },
    },
    {
      method: "tasks.v1.Tasks/Create",
      req: create(CreateTaskRequestSchema, { containerId: "c1", stdin: "/s/in", terminal: true, rootfs: [{ type: "overlay", source: "overlay" }] }),
      want: { containerId: "c1", terminal: "true", stdin: "/s/in" },
    },
    { method: "tasks.v1.Tasks/Kill", req: create(KillRequestSchema, { containerId: "c1", signal: 9 }), want: { containerId: "c1", signal: "9" } },
    {
      method: "tasks.v1.Tasks/Exec",
      req: create(ExecProcessRequestSchema, { containerId: "c1", execId: "e1", stdin: "/s/e1-in", spec: { typeUrl: "x", value: new Uint8Array([1]) } }),
      want: { containerId: "c1", execId: "e1", stdin: "/s/e1-in" },
    },
    {
      method: "snapshots.v1.Snapshots/Prepare",
      req: create(PrepareSnapshotRequestSchema, { snapshotter: "overlayfs", key: "c1", parent: "sha256:abc", labels: { a: "b" } }),
      want: { snapshotter: "overlayfs", key: "c1", parent: "sha256:abc" },
    },
    {
      method: "leases.v1.Leases/Create",
      req: create(LeaseCreateSchema, { id: "crib-run-c1", labels: { "containerd.io/gc.expire": "2026-01-01T00:00:00Z" } }),
      want: { id: "crib-run-c1", expires: "yes" },
    },
    {
      method: "transfer.v1.Transfer/Transfer",
      req: create(TransferRequestSchema, {
        source: protoAny(OCIRegistrySchema, { reference: "r/busybox:1", resolver: { hostDir: "/etc/hosts.d", authStream: "auth-1", headers: { Authorization: "secret" } } }),
        destination: protoAny(ImageStoreSchema, { name: "r/busybox:1", unpacks: [{ snapshotter: "overlayfs" }] }),
      }),
      want: {
        source: "containerd.types.transfer.OCIRegistry",
        destination: "containerd.types.transfer.ImageStore",
        reference: "r/busybox:1",
        authStream: "yes",
        "destination.name": "r/busybox:1",
        unpack: "overlayfs",
      },
    },
    // No picker: the id-like fields.
    { method: "tasks.v1.Tasks/Start", req: { containerId: "c1", execId: "" }, want: { containerId: "c1" } },
  ];
  for (const c of cases) assert.deepEqual(requestFields(c.method, c.req), c.want, c.method);
});

test("CRI request fields: ids, names and switches, never credentials", () => {
  const pull = create(PullImageRequestSchema, { image: { image: "busybox" }, auth: { username: "u", password: "secret" }, sandboxConfig: { metadata: { name: "p" } } });
  assert.deepEqual(criRequestFields(pull), { image: "busybox", pod: "p", auth: "given" });
  assert.doesNotMatch(JSON.stringify(criRequestFields(pull)), /secret/);
  const run = create(RunPodSandboxRequestSchema, {
    config: { metadata: { name: "p" }, linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE } } } },
    runtimeHandler: "runc",
  });
  assert.deepEqual(criRequestFields(run), { runtimeHandler: "runc", name: "p", hostNetwork: "true" });
  const exec = create(ExecRequestSchema, { containerId: "c1", tty: true, stdin: true, stdout: true, cmd: ["sh"] });
  assert.deepEqual(criRequestFields(exec), { containerId: "c1", tty: "true", stdin: "true", stdout: "true" });
});

test("a call tree marks calls that ran concurrently with an earlier one", () => {
  const line: TraceLine = {
    rpc: "ListContainerStats",
    request: {},
    time: "2026-01-01T00:00:00.000Z",
    ms: 5,
    code: "OK",
    calls: [
      { method: "tasks.v1.Tasks/Metrics", fields: { filters: "id==a" }, at: 0.1, ms: 2, code: "OK" },
      { method: "tasks.v1.Tasks/Metrics", fields: { filters: "id==b" }, at: 0.2, ms: 2, code: "NOT_FOUND" },
      { method: "snapshots.v1.Snapshots/Usage", fields: { key: "a".repeat(64) }, at: 3, ms: 1, code: "OK" },
    ],
  };
  assert.equal(
    formatLine(line),
    [
      "ListContainerStats  OK  5ms  2026-01-01T00:00:00.000Z",
      "├─ tasks.v1.Tasks/Metrics filters=id==a  +0.1ms 2ms",
      "├─ ‖ tasks.v1.Tasks/Metrics filters=id==b  NOT_FOUND  +0.2ms 2ms",
      `└─ snapshots.v1.Snapshots/Usage key=${"a".repeat(12)}  +3ms 1ms`,
    ].join("\n"),
  );
});

test("background work is written as a pseudo-RPC line: at settle, or once quiet", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "crib-trace-")), "trace.jsonl");
  const rec = new TraceRecorder(path);
  const call = (method: string) => recordCall({ method, ids: {}, fields: { id: "x" }, ms: 1, code: "OK", startedNs: process.hrtime.bigint() });
  await rec.background("(start-up)", {}, async () => {
    call("containers.v1.Containers/List");
    await new Promise((r) => setTimeout(r, 5));
    call("tasks.v1.Tasks/Get");
  });
  rec.background("(task exit)", { containerId: "c1" }, () => {
    setTimeout(() => call("tasks.v1.Tasks/Delete"), 5);
  });
  rec.background("(task exit)", { containerId: "idle" }, () => undefined); // no calls: no line
  rec.note("a note");
  await new Promise((r) => setTimeout(r, 50));
  await rec.close(); // flushes the still-open task exit
  const lines = parseTrace(readFileSync(path, "utf8"));
  assert.deepEqual(
    lines.map((l) => ("note" in l ? `note ${l.note}` : `${l.rpc} ${JSON.stringify(l.request)} ${l.calls.map((c) => c.method).join(",")}`)),
    ["(start-up) {} containers.v1.Containers/List,tasks.v1.Tasks/Get", "note a note", '(task exit) {"containerId":"c1"} tasks.v1.Tasks/Delete'],
  );
});

test("an RPC's line waits for the calls it left running, so they are in it", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "crib-trace-")), "trace.jsonl");
  const rec = new TraceRecorder(path);
  const calls: TracedCall[] = [];
  const started = process.hrtime.bigint();
  rec.rpc("Version", {}, started, [], null); // nothing running: written at once
  rec.callStarted(calls);
  rec.rpc("CreateContainer", { containerId: "c1" }, started, calls, null);
  let settled = false;
  const s = rec.settled().then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, "still waiting for the lease release");
  calls.push({ method: "leases.v1.Leases/Delete", ids: {}, fields: { id: "crib-run-c1" }, ms: 1, code: "OK", startedNs: process.hrtime.bigint() });
  rec.callEnded(calls);
  await s;
  await rec.close();
  const [first, line] = parseTrace(readFileSync(path, "utf8")) as TraceLine[];
  assert.equal(first!.rpc, "Version");
  assert.deepEqual(line!.request, { containerId: "c1" });
  assert.deepEqual(line!.calls.map((c) => c.method), ["leases.v1.Leases/Delete"]);
});

test("the trace file is off by default, set by trace_file or --trace-file", () => {
  assert.equal(DEFAULTS.traceFile, "");
  assert.equal(applyToml(DEFAULTS, { trace_file: "/var/log/crib/trace.jsonl" }).traceFile, "/var/log/crib/trace.jsonl");
  assert.equal(parseCli(["--trace-file", "/tmp/t.jsonl"]).overrides.traceFile, "/tmp/t.jsonl");
  assert.match(USAGE, /--trace-file PATH/);
  assert.match(USAGE, /crib trace FILE/);
});
