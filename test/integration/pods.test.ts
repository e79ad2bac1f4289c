// Pod sandboxes end to end: crib in-process on the harness's containerd and CNI (bridge +
// host-local + portmap, a subnet used only inside the namespaces the tests make). What a
// kubelet sees is asserted, plus the real pause process, its namespaces, and that nothing
// is left in containerd or on disk afterwards.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { NamespaceMode, PodSandboxState, type PodSandboxConfig } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall, connectCri } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { sandboxPaths } from "../../src/pod/sandbox-files.js";
import type { Containerd } from "../../src/containerd/client.js";

const run = promisify(execFile);

/** The part of PodSandboxConfig these tests set (assignable to its init shape). */
interface PodInit {
  portMappings?: { hostPort: number; containerPort: number; hostIp?: string }[];
  metadata?: { name: string; uid: string; namespace: string; attempt: number } | undefined;
  hostname?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: { cgroupParent?: string; securityContext?: { namespaceOptions?: { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode } } };
  dnsConfig?: { servers?: string[]; searches?: string[]; options?: string[] };
}

let seq = 0;
function podConfig(extra: PodInit = {}): PodInit {
  seq++;
  return {
    metadata: { name: `pod-${seq}`, uid: `uid-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
    hostname: `pod-${seq}`,
    labels: { app: "crib-test", seq: String(seq) },
    annotations: { "test/annotation": "x" },
    linux: { cgroupParent: `/crib-test/pod-${seq}` },
    ...extra,
  };
}

async function containerIds(cd: Containerd): Promise<string[]> {
  return (await cd.containers.list({ filters: [] })).containers.map((c) => c.id);
}
async function activeSnapshots(cd: Containerd): Promise<string[]> {
  const out: string[] = [];
  // Committed snapshots are the image's layers; active ones are rootfs of containers.
  for await (const r of cd.snapshots.list({ snapshotter: "overlayfs", filters: [] })) for (const i of r.info) if (i.kind !== 3) out.push(i.name);
  return out;
}
async function sandboxRecords(cd: Containerd): Promise<string[]> {
  try {
    return (await cd.sandboxStore.list({ filters: [] })).list.map((s) => s.sandboxId);
  } catch (e) {
    // containerd 1.6 has no Sandbox Store: there are no records to leave behind.
    if ((e as { code?: number }).code === Code.UNIMPLEMENTED) return [];
    throw e;
  }
}
async function leaseIds(cd: Containerd): Promise<string[]> {
  return (await cd.leases.list({ filters: [] })).leases.map((l) => l.id);
}
function netnsFiles(t: TestCrib): string[] {
  const dir = join(t.config.stateDir, "netns");
  return existsSync(dir) ? readdirSync(dir) : [];
}
function sandboxDirs(t: TestCrib): string[] {
  const dirs = [join(t.config.rootDir, "sandboxes"), join(t.config.stateDir, "sandboxes")];
  return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d) : []));
}

async function assertNothingLeft(t: TestCrib): Promise<void> {
  const cd = t.containerd;
  assert.deepEqual(await containerIds(cd), [], "containers left");
  assert.deepEqual(await activeSnapshots(cd), [], "rootfs snapshots left");
  assert.deepEqual(await sandboxRecords(cd), [], "sandbox store records left");
  assert.deepEqual((await leaseIds(cd)).filter((l) => l.startsWith("crib-")), [], "leases left");
  assert.deepEqual(netnsFiles(t), [], "netns pins left");
  assert.deepEqual(sandboxDirs(t), [], "sandbox dirs left");
}

async function verboseInfo(t: TestCrib, id: string): Promise<{ pid: number; netNamespacePath: string; runtimeSpec: { linux: { cgroupsPath?: string } } }> {
  const res = await t.client.runtime.podSandboxStatus({ podSandboxId: id, verbose: true });
  return JSON.parse(res.info["info"]!);
}

/** What a TCP server at host:port sends, retried while it starts. */
async function fetchTcp(host: string, port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 40; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const s = connect(port, host);
        let data = "";
        s.on("data", (c) => (data += c));
        s.on("end", () => resolve(data));
        s.on("error", reject);
        s.setTimeout(2000, () => s.destroy(new Error("timeout")));
      });
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`could not reach ${host}:${port}: ${String(last)}`);
}

function nsInode(path: string): number {
  return statSync(path).ino;
}

describe("pod sandboxes", () => {
  let t: TestCrib;
  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
  });
  after(async () => {
    // Remove whatever a failed test left, so the next file starts clean.
    await t.removeAllPods();
    await t.stop();
  });

  it("runs a pod: a real pause process in its own namespaces with a CNI address", async () => {
    const cfg = podConfig();
    const { podSandboxId: id } = await t.client.runtime.runPodSandbox({ config: cfg });
    assert.match(id, /^[0-9a-f]{64}$/);

    const st = (await t.client.runtime.podSandboxStatus({ podSandboxId: id })).status!;
    assert.equal(st.state, PodSandboxState.SANDBOX_READY);
    assert.equal(st.metadata?.name, cfg.metadata!.name);
    assert.deepEqual(st.labels, cfg.labels);
    assert.deepEqual(st.annotations, cfg.annotations);
    assert.ok(st.createdAt > 0n);
    const subnet = t.harness.cni.subnet.split(".").slice(0, 3).join(".") + ".";
    assert.ok(st.network?.ip.startsWith(subnet), `pod IP ${st.network?.ip} in ${t.harness.cni.subnet}`);

    const info = await verboseInfo(t, id);
    assert.ok(info.pid > 0);
    const cmdline = readFileSync(`/proc/${info.pid}/cmdline`, "utf8");
    assert.match(cmdline, /pause/);
    // Its network namespace is the pinned one, not the host's; pid/ipc/uts are its own.
    assert.equal(nsInode(`/proc/${info.pid}/ns/net`), nsInode(info.netNamespacePath));
    for (const ns of ["net", "pid", "ipc", "uts"]) {
      assert.notEqual(nsInode(`/proc/${info.pid}/ns/${ns}`), nsInode(`/proc/self/ns/${ns}`), `${ns} namespace is the host's`);
    }
    // The pod's cgroup parent is honoured (cgroupfs driver, v1 here).
    assert.equal(info.runtimeSpec.linux.cgroupsPath, `${cfg.linux!.cgroupParent}/${id}`);
    // restrict_oom_score_adj: pause asks for -998 but gets no less than ours.
    const ours = Number(readFileSync("/proc/self/oom_score_adj", "utf8"));
    assert.equal(Number(readFileSync(`/proc/${info.pid}/oom_score_adj`, "utf8")), Math.max(-998, ours));

    const listed = (await t.client.runtime.listPodSandbox({})).items.map((p) => p.id);
    assert.ok(listed.includes(id));

    await t.client.runtime.stopPodSandbox({ podSandboxId: id });
    await t.client.runtime.removePodSandbox({ podSandboxId: id });
    await assertNothingLeft(t);
  });

  it("two pods reach each other over the pod network", async () => {
    const a = (await t.client.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const b = (await t.client.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const infoA = await verboseInfo(t, a);
    const ipB = (await t.client.runtime.podSandboxStatus({ podSandboxId: b })).status!.network!.ip;
    const { stdout } = await run("nsenter", [`--net=${infoA.netNamespacePath}`, "busybox", "ping", "-c", "1", "-W", "3", ipB]);
    assert.match(stdout, /1 packets received/);
    for (const id of [a, b]) {
      await t.client.runtime.stopPodSandbox({ podSandboxId: id });
      await t.client.runtime.removePodSandbox({ podSandboxId: id });
    }
    await assertNothingLeft(t);
  });

  it("stop and remove are idempotent; a stopped pod is NOTREADY without a netns", async () => {
    const id = (await t.client.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const info = await verboseInfo(t, id);
    const shm = sandboxPaths(t.config.rootDir, t.config.stateDir, id, false).shm;
    const mounted = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === shm);
    assert.ok(mounted(), "the pod's shm is a mount while it runs");
    await t.client.runtime.stopPodSandbox({ podSandboxId: id });
    await t.client.runtime.stopPodSandbox({ podSandboxId: id });
    const st = (await t.client.runtime.podSandboxStatus({ podSandboxId: id })).status!;
    assert.equal(st.state, PodSandboxState.SANDBOX_NOTREADY);
    assert.equal(mounted(), false, "shm unmounted by StopPodSandbox");
    assert.equal(existsSync(info.netNamespacePath), false, "netns unpinned");
    assert.equal(existsSync(`/proc/${info.pid}`), false, "pause process gone");
    await t.client.runtime.removePodSandbox({ podSandboxId: id });
    await t.client.runtime.removePodSandbox({ podSandboxId: id });
    assert.equal(await codeOfCall(t.client.runtime.podSandboxStatus({ podSandboxId: id })), Code.NOT_FOUND);
    assert.equal(existsSync(shm), false, "shm dir removed");
    // Removing a ready pod stops it first; removing an unknown id succeeds.
    const ready = (await t.client.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const readyShm = sandboxPaths(t.config.rootDir, t.config.stateDir, ready, false).shm;
    await t.client.runtime.removePodSandbox({ podSandboxId: ready });
    assert.ok(!readFileSync("/proc/self/mountinfo", "utf8").includes(` ${readyShm} `), "a removed ready pod's shm is unmounted");
    assert.equal(existsSync(readyShm), false);
    await t.client.runtime.removePodSandbox({ podSandboxId: "0".repeat(64) });
    await assertNothingLeft(t);
  });

  it("a pod whose pause process dies becomes NOTREADY", async () => {
    const id = (await t.client.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const info = await verboseInfo(t, id);
    process.kill(info.pid, "SIGKILL");
    const deadline = Date.now() + 10_000;
    for (;;) {
      const st = (await t.client.runtime.podSandboxStatus({ podSandboxId: id })).status!;
      if (st.state === PodSandboxState.SANDBOX_NOTREADY) break;
      assert.ok(Date.now() < deadline, "pod still READY 10 s after its pause process died");
      await new Promise((r) => setTimeout(r, 100));
    }
    await t.client.runtime.stopPodSandbox({ podSandboxId: id });
    await t.client.runtime.removePodSandbox({ podSandboxId: id });
    await assertNothingLeft(t);
  });

  it("the same metadata and attempt twice is ALREADY_EXISTS; another attempt is fine", async () => {
    const cfg = podConfig();
    const first = (await t.client.runtime.runPodSandbox({ config: cfg })).podSandboxId;
    assert.equal(await codeOfCall(t.client.runtime.runPodSandbox({ config: cfg })), Code.ALREADY_EXISTS);
    const second = (await t.client.runtime.runPodSandbox({ config: { ...cfg, metadata: { ...cfg.metadata!, attempt: 1 } } })).podSandboxId;
    assert.notEqual(first, second);
    for (const id of [first, second]) await t.client.runtime.removePodSandbox({ podSandboxId: id });
    await assertNothingLeft(t);
  });

  it("bad configs are INVALID_ARGUMENT and leave nothing behind", async () => {
    const cases: [string, Parameters<typeof t.client.runtime.runPodSandbox>[0]][] = [
      ["no config", {}],
      ["no metadata", { config: { ...podConfig(), metadata: undefined } }],
      ["no uid", { config: { ...podConfig(), metadata: { name: "x", namespace: "default", uid: "", attempt: 0 } } }],
      ["unknown runtime handler", { config: podConfig(), runtimeHandler: "no-such-handler" }],
      ["malformed DNS server", { config: { ...podConfig(), dnsConfig: { servers: ["not-an-ip"] } } }],
      ["malformed DNS option", { config: { ...podConfig(), dnsConfig: { servers: ["10.0.0.10"], options: ["ndots:5\nnameserver 6.6.6.6"] } } }],
    ];
    for (const [name, req] of cases) {
      assert.equal(await codeOfCall(t.client.runtime.runPodSandbox(req)), Code.INVALID_ARGUMENT, name);
    }
    assert.deepEqual((await t.client.runtime.listPodSandbox({})).items, []);
    await assertNothingLeft(t);
  });

  it("a failure half-way (CNI ADD fails) undoes every step", async () => {
    // A host port already bound makes portmap fail? Not reliably; instead point CNI at an
    // empty bin dir for one crib: ADD fails after the netns and store record exist.
    const broken = await startTestCrib({ restrictOOMScoreAdj: true, cniBinDir: "/nonexistent" });
    try {
      const code = await codeOfCall(broken.client.runtime.runPodSandbox({ config: podConfig() }));
      assert.notEqual(code, Code.OK);
      assert.deepEqual((await broken.client.runtime.listPodSandbox({})).items, []);
      await assertNothingLeft(broken);
    } finally {
      await broken.stop();
    }
  });

  it("host-network pods share the host's network namespace and need no CNI", async () => {
    const cfg = podConfig({ hostname: "", linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE, pid: NamespaceMode.NODE, ipc: NamespaceMode.NODE } } } });
    // The kubelet sends no hostname for host-network pods; one that does is refused.
    assert.equal(await codeOfCall(t.client.runtime.runPodSandbox({ config: { ...cfg, hostname: "x" } })), Code.INVALID_ARGUMENT);
    const id = (await t.client.runtime.runPodSandbox({ config: cfg })).podSandboxId;
    const info = await verboseInfo(t, id);
    for (const ns of ["net", "pid", "ipc"]) assert.equal(nsInode(`/proc/${info.pid}/ns/${ns}`), nsInode(`/proc/self/ns/${ns}`), `${ns} is the host's`);
    const st = (await t.client.runtime.podSandboxStatus({ podSandboxId: id })).status!;
    assert.equal(st.network?.ip ?? "", "");
    assert.equal(st.linux?.namespaces?.options?.network, NamespaceMode.NODE);
    assert.equal(netnsFiles(t).length, 0);
    await t.client.runtime.removePodSandbox({ podSandboxId: id });
    await assertNothingLeft(t);
  });

  it("port mappings reach the pod through the portmap plugin", async () => {
    const hostPort = 18188;
    const cfg = { ...podConfig(), portMappings: [{ hostPort, containerPort: 8088, hostIp: "127.0.0.1" }] };
    const id = (await t.client.runtime.runPodSandbox({ config: cfg })).podSandboxId;
    const info = await verboseInfo(t, id);
    const serve = `require("net").createServer(s=>s.end("hello from the pod")).listen(8088,"0.0.0.0")`;
    const server = spawn("nsenter", [`--net=${info.netNamespacePath}`, process.execPath, "-e", serve], { stdio: "ignore" });
    try {
      assert.equal(await fetchTcp("127.0.0.1", hostPort), "hello from the pod");
    } finally {
      server.kill("SIGKILL");
    }
    await t.client.runtime.removePodSandbox({ podSandboxId: id });
    await assertNothingLeft(t);
  });

  it("the runtime handler selects a configured runtime and its options", async () => {
    const alt = await startTestCrib({
      restrictOOMScoreAdj: true,
      runtimes: {
        runc: { runtimeType: "io.containerd.runc.v2", options: {}, sandboxer: "podsandbox" },
        "crib-alt": { runtimeType: "io.containerd.runc.v2", options: { BinaryName: "/usr/sbin/runc" }, sandboxer: "podsandbox" },
      },
    });
    try {
      const handlers = (await alt.client.runtime.status({})).runtimeHandlers.map((h) => h.name).sort();
      // As containerd lists them: every handler by name, the default once more as "".
      assert.deepEqual(handlers, ["", "crib-alt", "runc"]);
      const id = (await alt.client.runtime.runPodSandbox({ config: podConfig(), runtimeHandler: "crib-alt" })).podSandboxId;
      const st = (await alt.client.runtime.podSandboxStatus({ podSandboxId: id })).status!;
      assert.equal(st.runtimeHandler, "crib-alt");
      assert.equal(st.state, PodSandboxState.SANDBOX_READY);
      const c = (await alt.containerd.containers.get({ id })).container!;
      assert.equal(c.runtime?.name, "io.containerd.runc.v2");
      assert.equal(c.runtime?.options?.typeUrl, "containerd.runc.v1.Options");
      assert.ok(Buffer.from(c.runtime!.options!.value).includes(Buffer.from("/usr/sbin/runc")));
      await alt.client.runtime.removePodSandbox({ podSandboxId: id });
      await assertNothingLeft(alt);
    } finally {
      await alt.stop();
    }
  });

  it("ListPodSandbox filters by id prefix, state and labels", async () => {
    const a = (await t.client.runtime.runPodSandbox({ config: podConfig({ labels: { tier: "front" } }) })).podSandboxId;
    const b = (await t.client.runtime.runPodSandbox({ config: podConfig({ labels: { tier: "back" } }) })).podSandboxId;
    await t.client.runtime.stopPodSandbox({ podSandboxId: b });
    const ids = async (filter: Parameters<typeof t.client.runtime.listPodSandbox>[0]["filter"]) =>
      (await t.client.runtime.listPodSandbox({ filter })).items.map((p) => p.id).sort();
    assert.deepEqual(await ids({ id: a.slice(0, 12) }), [a]);
    assert.deepEqual(await ids({ state: { state: PodSandboxState.SANDBOX_READY } }), [a]);
    assert.deepEqual(await ids({ state: { state: PodSandboxState.SANDBOX_NOTREADY } }), [b]);
    assert.deepEqual(await ids({ labelSelector: { tier: "back" } }), [b]);
    assert.deepEqual(await ids({ labelSelector: { tier: "none" } }), []);
    for (const id of [a, b]) await t.client.runtime.removePodSandbox({ podSandboxId: id });
    await assertNothingLeft(t);
  });
});

describe("pod sandboxes across crib restarts", () => {
  it("a restarted crib recovers pods from containerd; one whose pause died meanwhile is NOTREADY", async () => {
    const first = await startTestCrib({ restrictOOMScoreAdj: true });
    const namespace = first.config.namespace;
    const a = (await first.client.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const b = (await first.client.runtime.runPodSandbox({ config: podConfig() })).podSandboxId;
    const ipA = (await first.client.runtime.podSandboxStatus({ podSandboxId: a })).status!.network!.ip;
    const pidB = (await verboseInfo(first, b)).pid;
    await first.stop();
    process.kill(pidB, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));

    const second = await startTestCrib({ restrictOOMScoreAdj: true, namespace });
    try {
      const stA = (await second.client.runtime.podSandboxStatus({ podSandboxId: a })).status!;
      assert.equal(stA.state, PodSandboxState.SANDBOX_READY);
      assert.equal(stA.network?.ip, ipA);
      const stB = (await second.client.runtime.podSandboxStatus({ podSandboxId: b })).status!;
      assert.equal(stB.state, PodSandboxState.SANDBOX_NOTREADY);
      // The name stays reserved across the restart.
      const items = (await second.client.runtime.listPodSandbox({})).items;
      assert.deepEqual(items.map((p) => p.id).sort(), [a, b].sort());
      for (const id of [a, b]) {
        await second.client.runtime.stopPodSandbox({ podSandboxId: id });
        await second.client.runtime.removePodSandbox({ podSandboxId: id });
      }
      await assertNothingLeft(second);
    } finally {
      await second.stop();
    }
  });

  it("kill -9 of crib in the middle of RunPodSandbox leaves nothing a restart and RemovePodSandbox do not clean", async () => {
    const probe = await startTestCrib({ restrictOOMScoreAdj: true });
    const namespace = probe.config.namespace;
    const cfg = probe.config;
    await probe.stop();
    const dir = join(cfg.rootDir, "..");
    const toml = join(dir, "crib.toml");
    writeFileSync(
      toml,
      [
        `sandbox_image = "${cfg.sandboxImage}"`,
        `restrict_oom_score_adj = true`,
        `[registry]`,
        `config_path = "${cfg.registryConfigPath}"`,
        `[cni]`,
        `bin_dir = "${cfg.cniBinDir}"`,
        `conf_dir = "${cfg.cniConfDir}"`,
        "",
      ].join("\n"),
    );
    const args = ["--config", toml, "--listen", cfg.listen, "--containerd-address", cfg.containerdAddress, "--namespace", namespace, "--root-dir", cfg.rootDir, "--state-dir", cfg.stateDir, "--log-level", "error"];
    // Kill at several points of the RPC: before, during and after network setup and task start.
    for (const delayMs of [30, 120, 250, 400, 700]) {
      // From source through tsx: bin/crib runs dist/, which a test run does not build.
      const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../../src/main.ts"), ...args], { stdio: "ignore" });
      const client = connectCri(cfg.listen);
      try {
        const deadline = Date.now() + 20_000;
        while ((await codeOfCall(client.runtime.version({}))) !== Code.OK) {
          assert.ok(Date.now() < deadline, "crib child did not start");
          await new Promise((r) => setTimeout(r, 100));
        }
        const pending = client.runtime.runPodSandbox({ config: podConfig() });
        pending.catch(() => {});
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill("SIGKILL");
        await new Promise((r) => child.once("exit", r));
      } finally {
        client.close();
      }
      const again = await startTestCrib({ restrictOOMScoreAdj: true, namespace });
      try {
        for (const p of (await again.client.runtime.listPodSandbox({})).items) {
          await again.client.runtime.stopPodSandbox({ podSandboxId: p.id });
          await again.client.runtime.removePodSandbox({ podSandboxId: p.id });
        }
        await assertNothingLeft(again);
        // host-local released every address it handed out for this namespace's pods.
        const ipam = join(again.harness.cni.ipamDataDir, again.harness.cni.networkName);
        const held = existsSync(ipam) ? readdirSync(ipam).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
        // Test files run one at a time, so no other pod holds an address now.
        assert.deepEqual(held, [], `IPs still allocated after kill at ${delayMs} ms`);
      } finally {
        await again.stop();
      }
    }
  });
});

export type { PodSandboxConfig };
