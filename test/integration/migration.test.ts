// The hand-over between containerd's built-in CRI and crib, as docs/MIGRATION.md tells an
// operator to do it: stop the kubelet, restart containerd with its CRI disabled, start crib
// on containerd's CRI dirs (<root>/io.containerd.grpc.v1.cri, <state>/io.containerd.grpc.v1.cri,
// namespace k8s.io); and back. One containerd of this file's own is restarted between the
// phases. Pods cross both ways and one makes the round trip: running containers keep their
// pid, exited ones their exit code and times (to the nanosecond), pods their IP, logs grow
// without a gap, and exec, create, stop and remove work on the other side.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { ContainerState, PodSandboxState, type ContainerConfig, type ContainerStatus, type PodSandboxConfig } from "../../src/gen/runtime/v1/api_pb.js";
import { connectCri, type CriClient } from "../client/cri-client.js";
import { containerdConfig, containerdLayout, startContainerd } from "../harness/containerd.js";
import { loadHarness } from "../harness/env.js";
import { stopDaemon, type Daemon } from "../harness/proc.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

const CRI_PLUGIN = "io.containerd.grpc.v1.cri";
const TICKER = 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done';

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The tick numbers in a CRI log file, in order. */
function ticks(path: string): number[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => /^\S+ stdout [FP] tick (\d+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
}

function assertNoGap(path: string, atLeast: number): void {
  const t = ticks(path);
  assert.ok(t.length > atLeast, `${path}: ${t.length} ticks, expected more than ${atLeast}`);
  t.forEach((n, i) => assert.equal(n, i, `${path}: line ${i} says tick ${n}: output lost or repeated`));
}

/** `crib migrate check` as an operator runs it. */
function migrateCheck(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = resolve(import.meta.dirname, "../../bin/crib");
  return new Promise((done) =>
    execFile(bin, ["migrate", "check", ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

const mounted = (path: string) => readFileSync("/proc/self/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === path);

describe("migration between containerd's built-in CRI and crib", () => {
  const h = loadHarness();
  const layout = containerdLayout(join(h.scratchDir, "migration-containerd"));
  const criRoot = join(layout.root, CRI_PLUGIN);
  const criState = join(layout.state, CRI_PLUGIN);
  const logDir = join(h.scratchDir, "migration-logs");
  const criSettings = { sandboxImage: h.images.pause, cniBinDir: h.cni.binDir, cniConfDir: h.cni.confDir };
  let daemon: Daemon | undefined;
  let cri: CriClient | undefined;
  let t: TestCrib | undefined;

  /** What an operator does between the two: containerd restarted with or without its CRI. */
  async function restartContainerd(withCri: boolean): Promise<void> {
    if (daemon) await stopDaemon(daemon);
    const config = containerdConfig(layout, h.hostsDir, withCri ? criSettings : undefined);
    daemon = (await startContainerd("migration-containerd", h.containerd.binDir, layout, config)).daemon;
  }
  const startCribOnCriDirs = () =>
    startTestCrib({ containerdAddress: layout.address, namespace: "k8s.io", rootDir: criRoot, stateDir: criState, restrictOOMScoreAdj: true });

  const podConfig = (name: string): PodSandboxConfig =>
    ({ metadata: { name, uid: `${name}-${process.pid}`, namespace: "default", attempt: 0 }, hostname: name, logDirectory: join(logDir, name), linux: {} }) as PodSandboxConfig;
  const containerConfig = (name: string, script: string): ContainerConfig =>
    ({ metadata: { name, attempt: 0 }, image: { image: h.images.busybox }, command: ["sh", "-c", script], logPath: `${name}.log`, linux: {} }) as ContainerConfig;

  async function runPod(c: CriClient, name: string): Promise<string> {
    return (await c.runtime.runPodSandbox({ config: podConfig(name) })).podSandboxId;
  }
  async function runContainer(c: CriClient, pod: string, podName: string, name: string, script: string): Promise<string> {
    const id = (await c.runtime.createContainer({ podSandboxId: pod, config: containerConfig(name, script), sandboxConfig: podConfig(podName) })).containerId;
    await c.runtime.startContainer({ containerId: id });
    return id;
  }
  async function statusOf(c: CriClient, id: string): Promise<{ status: ContainerStatus; pid: number }> {
    const r = await c.runtime.containerStatus({ containerId: id, verbose: true });
    return { status: r.status!, pid: JSON.parse(r.info["info"]!).pid as number };
  }
  async function exited(c: CriClient, id: string): Promise<void> {
    await eventually(`container ${id} exits`, async () => (await c.runtime.containerStatus({ containerId: id })).status!.state === ContainerState.CONTAINER_EXITED);
  }
  const podIp = async (c: CriClient, id: string) => (await c.runtime.podSandboxStatus({ podSandboxId: id })).status!.network!.ip;
  /** What must not change across a hand-over. */
  function assertSameStatus(after: ContainerStatus, before: ContainerStatus): void {
    assert.equal(after.state, before.state);
    assert.equal(after.createdAt, before.createdAt, "createdAt kept to the nanosecond");
    assert.equal(after.startedAt, before.startedAt, "startedAt kept to the nanosecond");
    assert.equal(after.finishedAt, before.finishedAt, "finishedAt kept to the nanosecond");
    assert.equal(after.exitCode, before.exitCode);
    assert.equal(after.logPath, before.logPath);
  }

  // Handed from phase to phase.
  const ids: Record<string, string> = {};
  const seen: Record<string, { status: ContainerStatus; pid: number }> = {};
  let ipA = "";

  before(async () => {
    await mkdir(logDir, { recursive: true });
    await restartContainerd(true);
    cri = connectCri(layout.address);
    await cri.image.pullImage({ image: { image: h.images.busybox } });
  });
  after(async () => {
    // After a failure: whichever CRI is serving removes what is left (the harness unmounts the rest).
    for (const p of cri ? (await cri.runtime.listPodSandbox({}).catch(() => ({ items: [] }))).items : []) {
      await cri!.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => undefined);
    }
    cri?.close();
    await t?.removeAllPods().catch(() => undefined);
    await t?.stop();
    if (daemon) await stopDaemon(daemon);
  });

  it("crib adopts the pods and containers containerd's CRI made", async () => {
    const c = cri!;
    ids["podA"] = await runPod(c, "mig-a");
    ids["podC"] = await runPod(c, "mig-c");
    ids["ticker"] = await runContainer(c, ids["podA"], "mig-a", "ticker", TICKER);
    ids["quitter"] = await runContainer(c, ids["podA"], "mig-a", "quitter", "exit 3");
    ids["idle"] = await runContainer(c, ids["podC"], "mig-c", "idle", "sleep 3600");
    await exited(c, ids["quitter"]);
    for (const k of ["ticker", "quitter", "idle"]) seen[k] = await statusOf(c, ids[k]!);
    ipA = await podIp(c, ids["podA"]);
    assert.ok(ipA, "containerd's CRI gave the pod an IP");
    const tickerLog = seen["ticker"]!.status.logPath;
    const own = { root: join(h.scratchDir, "migration-crib-own", "root"), state: join(h.scratchDir, "migration-crib-own", "state") };
    const dirArgs = (d: { root: string; state: string }) => ["--containerd-address", layout.address, "--namespace", "k8s.io", "--root-dir", d.root, "--state-dir", d.state];
    const flags = `--namespace k8s.io --root-dir ${criRoot} --state-dir ${criState}`;
    let check = await migrateCheck(dirArgs({ root: criRoot, state: criState }));
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /containerd's own CRI plugin is loaded: stop the kubelet/);

    // The operator: kubelet stopped, containerd restarted without its CRI, crib started on its dirs.
    c.close();
    cri = undefined;
    await restartContainerd(false);
    const ticksAtHandOver = ticks(tickerLog).length;

    // Asked first: on crib's own dirs nothing carries over whole, and the check says which dirs to use.
    check = await migrateCheck(dirArgs(own));
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /^would adopt fully: 0 pod\(s\), 0 container\(s\)$/m);
    assert.match(check.stdout, new RegExp(`^  ${ids["podA"]!.slice(0, 13)}  mig-a_default_mig-a-${process.pid}_0  ready  files in containerd's CRI dirs only$`, "m"));
    assert.match(check.stdout, new RegExp(`^  ${ids["quitter"]!.slice(0, 13)}  quitter_mig-a_default_mig-a-${process.pid}_0  task none  pod ${ids["podA"]!.slice(0, 13)}  status in containerd's CRI dirs only$`, "m"));
    assert.match(check.stdout, /^  container \S+ quitter_\S+: status checkpoint .*its exit code, reason and times lost$/m);
    assert.match(check.stdout, /^  pod \S+ mig-c_\S+: its \/dev\/shm mount: removing the pod leaves the mount and its dirs behind$/m);
    assert.ok(check.stdout.includes(`flags to start crib on containerd's CRI dirs: ${flags}\n`), check.stdout);
    assert.equal(existsSync(own.root) || existsSync(own.state), false, "the check is read-only");
    check = await migrateCheck(dirArgs({ root: criRoot, state: criState }));
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^would adopt fully: 2 pod\(s\), 3 container\(s\)$/m);
    assert.match(check.stdout, /^would not carry over: nothing$/m);

    // crib on its own dirs refuses, naming the way out ...
    await assert.rejects(
      startTestCrib({ containerdAddress: layout.address, namespace: "k8s.io", rootDir: own.root, stateDir: own.state, restrictOOMScoreAdj: true }),
      (e: { code?: number; message: string }) => {
        assert.equal(e.code, Code.FAILED_PRECONDITION);
        assert.match(e.message, /2 pod\(s\) in namespace k8s.io have no files under root_dir/);
        assert.ok(e.message.includes(`start crib with ${flags}`), e.message);
        assert.match(e.message, /--adopt-partial/);
        return true;
      },
    );
    // ... and, told to, adopts what it can: the exited container's code and times are gone.
    const partial = await startTestCrib({ containerdAddress: layout.address, namespace: "k8s.io", rootDir: own.root, stateDir: own.state, restrictOOMScoreAdj: true, adoptPartial: true });
    try {
      const q = (await partial.client.runtime.containerStatus({ containerId: ids["quitter"]! })).status!;
      assert.equal(q.state, ContainerState.CONTAINER_UNKNOWN);
      assert.equal(q.finishedAt, 0n);
    } finally {
      await partial.stop();
    }

    t = await startCribOnCriDirs();
    const k = t.client;

    const pods = (await k.runtime.listPodSandbox({})).items;
    assert.deepEqual(pods.map((p) => p.id).sort(), [ids["podA"], ids["podC"]].sort());
    assert.ok(pods.every((p) => p.state === PodSandboxState.SANDBOX_READY));
    assert.equal(await podIp(k, ids["podA"]), ipA);
    for (const name of ["ticker", "quitter", "idle"]) {
      const now = await statusOf(k, ids[name]!);
      assertSameStatus(now.status, seen[name]!.status);
      assert.equal(now.pid, seen[name]!.pid, `${name} keeps its pid`);
    }
    assert.equal((await statusOf(k, ids["quitter"]!)).status.exitCode, 3);

    // The output written while nobody pumped it waited in the pipe: no gap in the log.
    await eventually("the ticker writes on", async () => ticks(tickerLog).length > ticksAtHandOver + 10);
    assertNoGap(tickerLog, ticksAtHandOver + 10);

    const ex = await k.runtime.execSync({ containerId: ids["ticker"], cmd: ["cat", "/etc/hostname"], timeout: 10n });
    assert.equal(ex.exitCode, 0);
    assert.equal(Buffer.from(ex.stdout).toString().trim(), "mig-a");

    // A new container in the adopted pod gets the pod's files.
    ids["late"] = await runContainer(k, ids["podA"], "mig-a", "late", "sleep 3600");
    const files = await k.runtime.execSync({
      containerId: ids["late"],
      cmd: ["sh", "-c", "cat /etc/hostname; test -s /etc/hosts && test -e /etc/resolv.conf && echo files-ok; mount | grep -c ' /dev/shm '"],
      timeout: 10n,
    });
    assert.equal(Buffer.from(files.stdout).toString().trim().split("\n").join(" "), "mig-a files-ok 1");

    // Stop and remove work on what containerd made, and leave nothing behind.
    await k.runtime.removeContainer({ containerId: ids["quitter"] });
    assert.equal(existsSync(join(criRoot, "containers", ids["quitter"]!)), false);
    await k.runtime.stopPodSandbox({ podSandboxId: ids["podC"] });
    await k.runtime.removePodSandbox({ podSandboxId: ids["podC"] });
    const shmC = join(criState, "sandboxes", ids["podC"]!, "shm");
    assert.equal(mounted(shmC), false, "the pod's shm is unmounted");
    assert.equal(existsSync(join(criRoot, "sandboxes", ids["podC"]!)), false);
    assert.equal(existsSync(join(criState, "sandboxes", ids["podC"]!)), false);
    const left = await t.containerd.containers.list({ filters: [] });
    assert.deepEqual(left.containers.map((x) => x.id).sort(), [ids["podA"], ids["ticker"], ids["late"]].sort());
  });

  it("containerd's CRI takes back crib's pods, and the round trip ends where it began", async () => {
    const k = t!.client;
    ids["podB"] = await runPod(k, "mig-b");
    ids["ticker2"] = await runContainer(k, ids["podB"], "mig-b", "ticker2", TICKER);
    ids["quitter2"] = await runContainer(k, ids["podB"], "mig-b", "quitter2", "exit 4");
    await exited(k, ids["quitter2"]);
    for (const name of ["ticker", "late", "ticker2", "quitter2"]) seen[name] = await statusOf(k, ids[name]!);
    const ipB = await podIp(k, ids["podB"]);
    for (const ts of [seen["quitter2"]!.status.finishedAt, seen["ticker2"]!.status.createdAt, seen["ticker2"]!.status.startedAt]) {
      assert.notEqual(ts % 1_000_000n, 0n, `crib's own times carry nanoseconds, not milliseconds: ${ts}`);
    }
    const ticker2Log = seen["ticker2"]!.status.logPath;
    const ticksAtHandOver = ticks(ticker2Log).length;

    await t!.stop();
    t = undefined;
    await restartContainerd(true);
    const c = (cri = connectCri(layout.address));

    const pods = (await c.runtime.listPodSandbox({})).items;
    assert.deepEqual(pods.map((p) => p.id).sort(), [ids["podA"], ids["podB"]].sort());
    assert.ok(pods.every((p) => p.state === PodSandboxState.SANDBOX_READY));
    assert.equal(await podIp(c, ids["podA"]), ipA, "the round trip keeps the IP");
    assert.equal(await podIp(c, ids["podB"]), ipB);
    for (const name of ["ticker", "late", "ticker2", "quitter2"]) {
      const now = await statusOf(c, ids[name]!);
      assertSameStatus(now.status, seen[name]!.status);
      assert.equal(now.pid, seen[name]!.pid, `${name} keeps its pid`);
    }
    assert.equal((await statusOf(c, ids["quitter2"]!)).status.exitCode, 4);

    await eventually("ticker2 writes on", async () => ticks(ticker2Log).length > ticksAtHandOver + 10);
    assertNoGap(ticker2Log, ticksAtHandOver + 10);
    assertNoGap(seen["ticker"]!.status.logPath, 0);
    const ex = await c.runtime.execSync({ containerId: ids["ticker2"], cmd: ["cat", "/etc/hostname"], timeout: 10n });
    assert.equal(Buffer.from(ex.stdout).toString().trim(), "mig-b");

    for (const pod of [ids["podA"]!, ids["podB"]!]) {
      await c.runtime.stopPodSandbox({ podSandboxId: pod });
      await c.runtime.removePodSandbox({ podSandboxId: pod });
      assert.equal(mounted(join(criState, "sandboxes", pod, "shm")), false);
      assert.equal(existsSync(join(criRoot, "sandboxes", pod)), false, "containerd removes the files crib made");
    }
    assert.deepEqual((await c.runtime.listContainers({})).containers, []);
    assert.deepEqual((await c.runtime.listPodSandbox({})).items, []);
  });
});
