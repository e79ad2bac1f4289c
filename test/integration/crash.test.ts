// Crash safety: crib (a child process, `bin/crib`) is killed with SIGKILL at a chosen
// containerd call of RunPodSandbox, CreateContainer, StartContainer, StopPodSandbox or
// RemovePodSandbox (the test's proxy in front of containerd.sock stops there: before
// containerd gets the call, while it works on it, or after it answered). Then crib is
// started again (in-process), everything is removed through the CRI, and the census must
// be empty: no shim, cgroup dir, mount, netns, lease, container, snapshot, sandbox record,
// IP allocation, FIFO or state dir left.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ContainerState, PodSandboxState, type ContainerConfigSchema, type PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { Status as TaskStatus } from "../../src/gen/github.com/containerd/containerd/api/types/task/task_pb.js";
import type { Config } from "../../src/config.js";
import { codeOfCall, connectCri, type CriClient } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { startContainerdProxy, type ContainerdProxy, type CrashTiming } from "./helpers/containerd-proxy.js";
import { awaitCensusEmpty, censusScope, cgroupLeftovers, shimProcesses } from "./helpers/census.js";
import { loadHarness } from "../harness/env.js";

type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;
type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;

const CGROUP_ROOT = `/crib-crash-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Step = "RunPodSandbox" | "CreateContainer" | "StartContainer" | "StopPodSandbox" | "RemovePodSandbox";
interface CrashCase {
  step: Step;
  /** containerd method the crash is at (end of the gRPC path). */
  method: string;
  timing: CrashTiming;
  nth?: number;
  delayMs?: number;
  /**
   * CreateContainer of the image's second container in the pod: crib knows the image's
   * passwd/group then and creates without a run lease (Containers/Create, then Prepare).
   */
  second?: boolean;
}

const T = "tasks.v1.Tasks/";
const ALL_CASES: CrashCase[] = [
  { step: "RunPodSandbox", method: "Store/Create", timing: "after" },
  { step: "RunPodSandbox", method: "Store/Update", timing: "after" },
  { step: "RunPodSandbox", method: "Store/Update", timing: "after", nth: 2 },
  { step: "RunPodSandbox", method: "Leases/Create", timing: "after" },
  { step: "RunPodSandbox", method: "Snapshots/Prepare", timing: "after" },
  { step: "RunPodSandbox", method: "Containers/Create", timing: "after" },
  // containerd is starting the shim when its client goes away.
  { step: "RunPodSandbox", method: `${T}Create`, timing: "during", delayMs: 0 },
  { step: "RunPodSandbox", method: `${T}Create`, timing: "during", delayMs: 30 },
  { step: "RunPodSandbox", method: `${T}Create`, timing: "after" },
  { step: "RunPodSandbox", method: `${T}Start`, timing: "during" },
  { step: "RunPodSandbox", method: `${T}Start`, timing: "after" },
  { step: "CreateContainer", method: "Leases/Create", timing: "after" },
  { step: "CreateContainer", method: "Snapshots/Prepare", timing: "after" },
  { step: "CreateContainer", method: "Containers/Create", timing: "after" },
  { step: "CreateContainer", method: "Containers/Create", timing: "after", second: true },
  { step: "CreateContainer", method: "Snapshots/Prepare", timing: "during", second: true },
  { step: "StartContainer", method: "Snapshots/Mounts", timing: "after" },
  { step: "StartContainer", method: `${T}Create`, timing: "during", delayMs: 5 },
  { step: "StartContainer", method: `${T}Create`, timing: "during", delayMs: 30 },
  // The task is created and never started.
  { step: "StartContainer", method: `${T}Start`, timing: "before" },
  { step: "StartContainer", method: `${T}Start`, timing: "during" },
  { step: "StopPodSandbox", method: `${T}Kill`, timing: "after" },
  { step: "StopPodSandbox", method: `${T}Delete`, timing: "during" },
  { step: "StopPodSandbox", method: `${T}Delete`, timing: "after", nth: 2 },
  { step: "RemovePodSandbox", method: "Containers/Delete", timing: "after" },
  { step: "RemovePodSandbox", method: "Snapshots/Remove", timing: "after" },
  { step: "RemovePodSandbox", method: "Containers/Delete", timing: "after", nth: 2 },
  { step: "RemovePodSandbox", method: "Store/Delete", timing: "before" },
];
// containerd 1.6 has no Sandbox Store: its calls, and so those crash points, do not exist there.
const HAS_SANDBOX_STORE = !loadHarness().containerd.version.startsWith("1.6");
const CASES = ALL_CASES.filter((c) => HAS_SANDBOX_STORE || !c.method.startsWith("Store/"));

function caseName(c: CrashCase): string {
  return `${c.step}${c.second ? " (second container)" : ""}: ${c.timing} ${c.method}${c.nth ? ` #${c.nth}` : ""}${c.delayMs !== undefined ? ` +${c.delayMs}ms` : ""}`;
}

describe("crash safety: kill -9 of crib at each containerd call", () => {
  let probe: TestCrib;
  let cfg: Config;
  let dir: string;
  let args: string[];
  let proxy: ContainerdProxy;
  let seq = 0;
  /** Every pod's cgroup parent, removed at the end as the kubelet would. */
  const cgroupParents: string[] = [];

  before(async () => {
    probe = await startTestCrib({ restrictOOMScoreAdj: true });
    cfg = probe.config;
    await probe.client.image.pullImage({ image: { image: probe.harness.images.busybox } });
    await probe.stop();
    dir = join(cfg.rootDir, "..");
    proxy = await startContainerdProxy(cfg.containerdAddress, join(dir, "proxy.sock"));
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
    args = ["--config", toml, "--listen", cfg.listen, "--containerd-address", proxy.socket, "--namespace", cfg.namespace, "--root-dir", cfg.rootDir, "--state-dir", cfg.stateDir, "--log-level", "debug"];
  });
  after(async () => {
    await proxy?.close();
    // The pod cgroups are the kubelet's to remove (runc creates them as parents).
    for (const p of [...cgroupParents].reverse()) for (const h of ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"]) tryRmdir(join("/sys/fs/cgroup", h, p));
    for (const h of ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"]) tryRmdir(join("/sys/fs/cgroup", h, CGROUP_ROOT));
  });

  function podConfig(): PodInit {
    seq++;
    const parent = `${CGROUP_ROOT}/pod-${seq}`;
    cgroupParents.push(parent);
    return {
      metadata: { name: `crash-${seq}`, uid: `crash-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: `crash-${seq}`,
      logDirectory: join(dir, "logs", `pod-${seq}`),
      linux: { cgroupParent: parent },
    };
  }
  function containerConfig(name = "main"): ContainerInit {
    return {
      metadata: { name, attempt: 0 },
      image: { image: probe.harness.images.busybox },
      command: ["sh", "-c", "echo started; exec sleep 1000"],
      logPath: "main.log",
    };
  }

  async function startChild(): Promise<{ child: ChildProcess; client: CriClient }> {
    const out = openSync(join(dir, `child-${seq}.log`), "w");
    const child = spawn(join(import.meta.dirname, "../../bin/crib"), args, { stdio: ["ignore", out, out] });
    const client = connectCri(cfg.listen);
    const deadline = Date.now() + 60_000;
    while ((await codeOfCall(client.runtime.version({}))) !== Code.OK) {
      assert.ok(Date.now() < deadline && child.exitCode === null, "crib child did not start");
      await sleep(100);
    }
    return { child, client };
  }

  /** Runs the RPCs before the step, then the step itself with the crash point armed. */
  async function driveToCrash(c: CrashCase, client: CriClient, child: ChildProcess, pod: PodInit): Promise<void> {
    const target = (): Promise<unknown> => {
      throw new Error("unreachable");
    };
    let rpc: () => Promise<unknown> = target;
    if (c.step === "RunPodSandbox") rpc = () => client.runtime.runPodSandbox({ config: pod });
    else {
      const podId = (await client.runtime.runPodSandbox({ config: pod })).podSandboxId;
      if (c.step === "CreateContainer") {
        if (c.second) await client.runtime.createContainer({ podSandboxId: podId, config: containerConfig("first"), sandboxConfig: pod });
        rpc = () => client.runtime.createContainer({ podSandboxId: podId, config: containerConfig(), sandboxConfig: pod });
      }
      else {
        const ctrId = (await client.runtime.createContainer({ podSandboxId: podId, config: containerConfig(), sandboxConfig: pod })).containerId;
        if (c.step === "StartContainer") rpc = () => client.runtime.startContainer({ containerId: ctrId });
        else {
          await client.runtime.startContainer({ containerId: ctrId });
          if (c.step === "StopPodSandbox") rpc = () => client.runtime.stopPodSandbox({ podSandboxId: podId });
          else {
            await client.runtime.stopPodSandbox({ podSandboxId: podId });
            rpc = () => client.runtime.removePodSandbox({ podSandboxId: podId });
          }
        }
      }
    }
    const hit = proxy.arm({ method: c.method, timing: c.timing, nth: c.nth, delayMs: c.delayMs });
    const pending = rpc();
    pending.catch(() => undefined);
    const outcome = await Promise.race([hit.then(() => "hit"), pending.then(() => "answered", () => "failed")]);
    child.kill("SIGKILL");
    await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(undefined)));
    assert.equal(outcome, "hit", `the crash point was never reached (the RPC ${outcome})`);
  }

  /** Everything removed through the CRI, as a kubelet would after a restart. */
  async function removeEverything(t: TestCrib): Promise<void> {
    for (const ctr of (await t.client.runtime.listContainers({})).containers) await t.client.runtime.removeContainer({ containerId: ctr.id });
    for (const p of (await t.client.runtime.listPodSandbox({})).items) {
      await t.client.runtime.stopPodSandbox({ podSandboxId: p.id });
      await t.client.runtime.removePodSandbox({ podSandboxId: p.id });
    }
  }

  for (const c of CASES) {
    it(caseName(c), async () => {
      const { child, client } = await startChild();
      const pod = podConfig();
      try {
        await driveToCrash(c, client, child, pod);
      } finally {
        client.close();
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      const again = await startTestCrib({ restrictOOMScoreAdj: true, namespace: cfg.namespace });
      try {
        await removeEverything(again);
        await awaitCensusEmpty(censusScope(again, { cgroupParents: [pod.linux!.cgroupParent!] }), caseName(c));
      } finally {
        await again.stop();
      }
    });
  }

  it("a created-but-never-started task is deleted in the background: crib serves first, Start waits for it", async () => {
    const { child, client } = await startChild();
    let ctrId = "";
    const pod = podConfig();
    try {
      const podId = (await client.runtime.runPodSandbox({ config: pod })).podSandboxId;
      ctrId = (await client.runtime.createContainer({ podSandboxId: podId, config: containerConfig(), sandboxConfig: pod })).containerId;
      const hit = proxy.arm({ method: `${T}Start`, timing: "before" });
      client.runtime.startContainer({ containerId: ctrId }).catch(() => undefined);
      await hit;
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    } finally {
      client.close();
    }
    // The restarted crib talks to containerd through the proxy, which holds the clean-up's
    // first call (the kill of the never-started task): crib must serve all the same.
    const held = proxy.arm({ method: `${T}Kill`, timing: "before" });
    const starting = startTestCrib({ restrictOOMScoreAdj: true, namespace: cfg.namespace, containerdAddress: proxy.socket });
    starting.catch(() => undefined);
    await held;
    const again = await Promise.race([starting, sleep(30_000).then(() => undefined)]);
    if (!again) {
      proxy.release();
      await (await starting).stop();
      assert.fail("crib did not serve while the clean-up of the never-started task was pending");
    }
    try {
      assert.equal(await codeOfCall(again.client.runtime.version({})), Code.OK);
      const task = await again.containerd.tasks.get({ containerId: ctrId });
      assert.equal(task.process?.status, TaskStatus.CREATED, "the clean-up is still pending");
      assert.equal((await again.client.runtime.containerStatus({ containerId: ctrId })).status?.state, ContainerState.CONTAINER_CREATED);
      // Start waits for the clean-up, then makes a task of its own (else: AlreadyExists).
      const started = again.client.runtime.startContainer({ containerId: ctrId });
      proxy.release();
      await started;
      assert.equal((await again.client.runtime.containerStatus({ containerId: ctrId })).status?.state, ContainerState.CONTAINER_RUNNING);
      await removeEverything(again);
      await awaitCensusEmpty(censusScope(again, { cgroupParents: [pod.linux!.cgroupParent!] }), "created task");
    } finally {
      proxy.release();
      await again.stop();
    }
  });

  // The shim is in its blocking open of the container's stdout FIFO (crib, the reader, is
  // dead) and holds its lock: the pause's State times out, and containerd 1.x kept the
  // task's bundle after its clean-up timed out (a later Tasks.Create: "file exists").
  it("a crash during a container's Tasks.Create: the pod stays READY, containerd drops the half-made task and its bundle, the container starts", async () => {
    const { child, client } = await startChild();
    const pod = podConfig();
    let podId = "";
    let ctrId = "";
    try {
      podId = (await client.runtime.runPodSandbox({ config: pod })).podSandboxId;
      ctrId = (await client.runtime.createContainer({ podSandboxId: podId, config: containerConfig(), sandboxConfig: pod })).containerId;
      const hit = proxy.arm({ method: `${T}Create`, timing: "during", delayMs: 30 });
      client.runtime.startContainer({ containerId: ctrId }).catch(() => undefined);
      await hit;
      child.kill("SIGKILL");
      await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(undefined)));
    } finally {
      client.close();
    }
    const again = await startTestCrib({ restrictOOMScoreAdj: true, namespace: cfg.namespace });
    try {
      const status = await again.client.runtime.podSandboxStatus({ podSandboxId: podId });
      assert.equal(status.status?.state, PodSandboxState.SANDBOX_READY, "the pod survived the restart");
      assert.equal((await again.containerd.tasks.get({ containerId: podId })).process?.status, TaskStatus.RUNNING, "the pause runs");
      assert.equal((await again.client.runtime.containerStatus({ containerId: ctrId })).status?.state, ContainerState.CONTAINER_CREATED);
      // containerd's clean-up of the interrupted Create goes on in the background (its shim
      // Delete waits up to 2 s for the stdio copy): the bundle goes, then Start can make a task.
      const bundle = join(again.harness.containerd.state, "io.containerd.runtime.v2.task", cfg.namespace, ctrId);
      const deadline = Date.now() + 10_000;
      while (existsSync(bundle) && Date.now() < deadline) await sleep(100);
      assert.ok(!existsSync(bundle), `containerd removed the half-made task's bundle ${bundle}`);
      await again.client.runtime.startContainer({ containerId: ctrId });
      assert.equal((await again.client.runtime.containerStatus({ containerId: ctrId })).status?.state, ContainerState.CONTAINER_RUNNING);
      await removeEverything(again);
      await awaitCensusEmpty(censusScope(again, { cgroupParents: [pod.linux!.cgroupParent!] }), "interrupted container Tasks.Create");
    } finally {
      await again.stop();
    }
  });

  it("a shim left without a task (Tasks.Create cut short: bundle deleted) is stopped at start-up; a live pod's shim stays", async () => {
    const first = await startTestCrib({ restrictOOMScoreAdj: true, namespace: cfg.namespace });
    const pod = podConfig();
    let podId = "";
    try {
      podId = (await first.client.runtime.runPodSandbox({ config: pod })).podSandboxId;
    } finally {
      await first.stop();
    }
    const orphanId = randomBytes(32).toString("hex");
    const logReader = startOrphanShim(probe.harness.containerd.binDir, cfg.containerdAddress, cfg.namespace, orphanId, dir);
    const ready = Date.now() + 5000;
    while (shimIds(cfg.namespace).length < 2 && Date.now() < ready) await sleep(100);
    assert.deepEqual(shimIds(cfg.namespace), [orphanId, podId].sort(), `orphan ${orphanId}, pod ${podId}`);
    const again = await startTestCrib({ restrictOOMScoreAdj: true, namespace: cfg.namespace });
    try {
      const deadline = Date.now() + 20_000;
      while (shimIds(cfg.namespace).includes(orphanId) && Date.now() < deadline) await sleep(100);
      assert.deepEqual(shimIds(cfg.namespace), [podId], "the orphan is stopped, the pod's shim is not");
      assert.equal((await again.client.runtime.podSandboxStatus({ podSandboxId: podId })).status?.state, PodSandboxState.SANDBOX_READY);
      const sweepLogs = again.logs.filter((l) => l.message.includes("shim"));
      assert.ok(
        sweepLogs.some((l) => l.message.includes("stopping a shim left without a task") && l["podSandboxId"] === orphanId),
        `crib's sweep stopped the orphan: ${JSON.stringify(sweepLogs)}`,
      );
      await removeEverything(again);
      await awaitCensusEmpty(censusScope(again, { cgroupParents: [pod.linux!.cgroupParent!] }), "orphaned shim");
    } finally {
      logReader.kill();
      await again.stop();
    }
  });

  it("the census sees what it is meant to see (a running pod and container are counted)", async () => {
    const t = await startTestCrib({ restrictOOMScoreAdj: true, namespace: cfg.namespace });
    try {
      const pod = podConfig();
      const podId = (await t.client.runtime.runPodSandbox({ config: pod })).podSandboxId;
      const ctrId = (await t.client.runtime.createContainer({ podSandboxId: podId, config: containerConfig(), sandboxConfig: pod })).containerId;
      await t.client.runtime.startContainer({ containerId: ctrId });
      const cgroups = cgroupLeftovers([pod.linux!.cgroupParent!]);
      assert.ok(cgroups.includes(`memory:${pod.linux!.cgroupParent}/${ctrId}`), JSON.stringify(cgroups));
      const scope = censusScope(t, { cgroupParents: [pod.linux!.cgroupParent!] });
      await assert.rejects(awaitCensusEmpty(scope, "", 0), (e: Error) => {
        const counted = ["shims", "containers", "snapshots", ...(HAS_SANDBOX_STORE ? ["sandboxes"] : []), "netns", "fifos", "stateDirs", "mounts", "ipAllocations"];
        for (const what of counted) assert.match(e.message, new RegExp(`"${what}":\\["`), what);
        return true;
      });
      await removeEverything(t);
      await awaitCensusEmpty(scope);
    } finally {
      await t.stop();
    }
  });
});

function tryRmdir(p: string): void {
  try {
    rmdirSync(p);
  } catch {
    /* absent or busy */
  }
}

function shimIds(namespace: string): string[] {
  return shimProcesses(namespace)
    .map((s) => s.split(" ")[1]!)
    .sort();
}

/**
 * A shim daemon containerd does not know, with its bundle deleted: what a Tasks.Create cut
 * short while containerd starts the shim leaves. Started as containerd does, with
 * `containerd-shim-runc-v2 start` in the task's bundle; containerd reads the shim's log
 * FIFO, `cat` does here (returned: killed at the end). The bundle goes once the daemon has
 * its log open: a daemon still coming up in a deleted bundle ends by itself, and the
 * test would prove nothing.
 */
function startOrphanShim(binDir: string, address: string, namespace: string, id: string, dir: string): ChildProcess {
  const bundle = join(dir, `orphan-bundle-${id.slice(0, 12)}`);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, "config.json"), JSON.stringify({ ociVersion: "1.0.2" }));
  execFileSync("mkfifo", [join(bundle, "log")]);
  const reader = spawn("cat", [join(bundle, "log")], { stdio: "ignore" });
  try {
    // Output to a file: nothing of the shim may hang on a pipe this process closes.
    const out = openSync(join(dir, `orphan-${id.slice(0, 12)}.out`), "w");
    execFileSync(join(binDir, "containerd-shim-runc-v2"), ["-namespace", namespace, "-id", id, "-address", address, "start"], {
      cwd: bundle,
      env: { ...process.env, TTRPC_ADDRESS: `${address}.ttrpc` },
      stdio: ["ignore", out, out],
      timeout: 20_000,
    });
    // The daemon opens its log FIFO (onto stderr) as it comes up: delete the bundle after.
    const deadline = Date.now() + 10_000;
    while (!shimLogOpen(namespace, id, join(bundle, "log")) && Date.now() < deadline) execFileSync("sleep", ["0.05"]);
  } catch (e) {
    reader.kill();
    throw e;
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
  return reader;
}

function shimLogOpen(namespace: string, id: string, log: string): boolean {
  const shim = shimProcesses(namespace).find((s) => s.endsWith(` ${id}`));
  if (!shim) return false;
  try {
    return readlinkSync(`/proc/${shim.split(" ")[0]}/fd/2`) === log;
  } catch {
    return false;
  }
}
