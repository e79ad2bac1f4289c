import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { DNSConfigSchema, PodSandboxConfigSchema, PodSandboxState } from "../../src/gen/runtime/v1/api_pb.js";
import { resolvConfFromDns } from "../../src/pod/sandbox-files.js";
import { filterSandboxes } from "../../src/pod/sandbox-status.js";
import { Code, CriError } from "../../src/errors.js";
import { SandboxStore, type Sandbox } from "../../src/pod/sandbox-store.js";

test("resolv.conf from DNSConfig as containerd writes it", () => {
  const text = resolvConfFromDns(create(DNSConfigSchema, { servers: ["10.0.0.10", "fd00::10"], searches: ["ns.svc.cluster.local", "cluster.local"], options: ["ndots:5"] }));
  assert.equal(text, "search ns.svc.cluster.local cluster.local\nnameserver 10.0.0.10\nnameserver fd00::10\noptions ndots:5\n");
  assert.equal(resolvConfFromDns(create(DNSConfigSchema, {})), "");
});

test("malformed DNS config is INVALID_ARGUMENT", () => {
  const bad = [{ servers: ["not-an-ip"] }, { searches: ["a b"] }, { options: ["ndots:5\nnameserver 1.2.3.4"] }, { searches: [""] }];
  for (const b of bad) {
    assert.throws(() => resolvConfFromDns(create(DNSConfigSchema, b)), (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT, JSON.stringify(b));
  }
});

function sandbox(id: string, state: Sandbox["state"], labels: Record<string, string>): Sandbox {
  return {
    meta: { id, name: `n-${id}`, config: create(PodSandboxConfigSchema, { labels }), netnsPath: "", ip: "", additionalIps: [], runtimeHandler: "", cniResult: null, processLabel: "" },
    state,
    createdAt: 0n,
    pid: 0,
    imageId: "",
    runtimeType: "",
    stopping: false,
  };
}

test("ListPodSandbox filters: id prefix, state, label selector", () => {
  const store = new SandboxStore();
  store.add(sandbox("aaa111", "ready", { app: "a" }));
  store.add(sandbox("aab222", "notready", { app: "b" }));
  store.add(sandbox("ccc333", "ready", { app: "b", tier: "x" }));
  const all = store.list();
  const ids = (f: Parameters<typeof filterSandboxes>[1]) => filterSandboxes(all, f, (id) => store.find(id)).map((s) => s.meta.id).sort();
  const cases: [string, Parameters<typeof filterSandboxes>[1], string[]][] = [
    ["no filter", undefined, ["aaa111", "aab222", "ccc333"]],
    ["exact id", { id: "aab222" } as never, ["aab222"]],
    ["unique prefix", { id: "cc" } as never, ["ccc333"]],
    ["ambiguous prefix", { id: "aa" } as never, []],
    ["ready only", { id: "", state: { state: PodSandboxState.SANDBOX_READY }, labelSelector: {} } as never, ["aaa111", "ccc333"]],
    ["labels", { id: "", labelSelector: { app: "b" } } as never, ["aab222", "ccc333"]],
    ["labels and state", { id: "", state: { state: PodSandboxState.SANDBOX_READY }, labelSelector: { app: "b", tier: "x" } } as never, ["ccc333"]],
  ];
  for (const [name, f, want] of cases) assert.deepEqual(ids(f), want, name);
});

test("a second sandbox with the same name is ALREADY_EXISTS", () => {
  const store = new SandboxStore();
  store.names.reserve("web_default_u_0", "id1");
  assert.throws(() => store.names.reserve("web_default_u_0", "id2"), (e: unknown) => e instanceof CriError && e.code === Code.ALREADY_EXISTS);
  store.names.releaseByName("web_default_u_0");
  store.names.reserve("web_default_u_0", "id2");
});
