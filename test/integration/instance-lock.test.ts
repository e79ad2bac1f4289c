// One crib per state: while a first crib serves (a running container, its exec FIFO pool,
// a netns pin and a run lease of a RunPodSandbox in flight), a second crib process given
// the same root dir, state dir or socket exits non-zero with a message naming what is
// shared, and the first crib's resources are untouched (exec still works).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { runSpdyRemoteCommand } from "../client/streaming-client.js";
import { createNetns, netnsExists, removeNetns } from "../../src/network/netns.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

const CRIB_BIN = resolve(import.meta.dirname, "../../bin/crib");

interface Exit {
  code: number | null;
  stderr: string;
}

/** Runs bin/crib to its end; one still running after 30 s is killed and reported as such. */
function runSecondCrib(args: string[]): Promise<Exit & { killed: boolean }> {
  return new Promise((done) => {
    const child = spawn(CRIB_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stderr, killed });
    });
  });
}

describe("one crib per root dir, state dir and socket", () => {
  let t: TestCrib;
  let pod: string;
  let ctr: string;
  let inflightNetns: string;
  const runLease = `crib-run-${"f".repeat(64)}`;
  let scratch: string;

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    scratch = join(t.harness.scratchDir, `${t.config.namespace}-second`);
    mkdirSync(scratch, { recursive: true });
    const busybox = t.harness.images.busybox;
    await t.client.image.pullImage({ image: { image: busybox } });
    const podConfig = {
      metadata: { name: "locked", uid: `uid-lock-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: "locked",
      logDirectory: join(scratch, "logs"),
    };
    pod = (await t.client.runtime.runPodSandbox({ config: podConfig })).podSandboxId;
    const config = { metadata: { name: "sleeper", attempt: 0 }, image: { image: busybox }, logPath: "sleeper/0.log", command: ["sleep", "3600"] };
    ctr = (await t.client.runtime.createContainer({ podSandboxId: pod, config, sandboxConfig: podConfig })).containerId;
    await t.client.runtime.startContainer({ containerId: ctr });
    // What a RunPodSandbox in flight holds before its container exists: a netns pin and a
    // run lease. A start-up sweep takes both for leftovers of a crash.
    inflightNetns = await createNetns(join(t.config.stateDir, "netns"));
    await t.containerd.leases.create({ id: runLease, labels: { "containerd.io/gc.expire": new Date(Date.now() + 3600_000).toISOString() } });
  });

  after(async () => {
    await t.containerd.leases.delete({ id: runLease, sync: false }).catch(() => undefined);
    if (inflightNetns) await removeNetns(inflightNetns).catch(() => undefined);
    await t.removeAllPods();
    await t.stop();
  });

  function execFifos(): string[] {
    const dir = join(t.config.stateDir, "exec-fifos");
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  }

  async function firstCribUntouched(fifosBefore: string[]) {
    assert.deepEqual(execFifos(), fifosBefore, "the first crib's exec FIFO pool is untouched");
    assert.ok(await netnsExists(inflightNetns), "the in-flight netns pin is still there");
    const leases = await t.containerd.leases.list({ filters: [`id==${runLease}`] });
    assert.equal(leases.leases.length, 1, "the run lease is still there");
    const st = await t.client.runtime.containerStatus({ containerId: ctr });
    assert.equal(st.status?.state, 1 /* CONTAINER_RUNNING */);
    // Exec through a FIFO set from the pool, and ExecSync.
    const { url } = await t.client.runtime.exec({ containerId: ctr, cmd: ["echo", "still here"], stdout: true, stderr: true, stdin: false, tty: false });
    const r = await runSpdyRemoteCommand(url, { stdout: true, stderr: true });
    assert.equal(r.stdout.toString(), "still here\n");
    const s = await t.client.runtime.execSync({ containerId: ctr, cmd: ["echo", "sync"], timeout: 10n });
    assert.equal(Buffer.from(s.stdout).toString(), "sync\n");
  }

  const cases: { name: string; shared: string; what: RegExp; args: (t: TestCrib, own: string) => string[] }[] = [
    {
      name: "same root dir",
      shared: "root dir",
      what: /root dir/,
      args: (t, own) => ["--root-dir", t.config.rootDir, "--state-dir", join(own, "state"), "--listen", join(own, "crib.sock")],
    },
    {
      name: "same state dir",
      shared: "state dir",
      what: /state dir/,
      args: (t, own) => ["--root-dir", join(own, "root"), "--state-dir", t.config.stateDir, "--listen", join(own, "crib.sock")],
    },
    {
      name: "same socket",
      shared: "socket",
      what: /socket/,
      args: (t, own) => ["--root-dir", join(own, "root"), "--state-dir", join(own, "state"), "--listen", t.config.listen],
    },
  ];

  for (const c of cases) {
    it(`a second crib with the ${c.name} exits non-zero, naming the ${c.shared}, and changes nothing`, async () => {
      const fifosBefore = execFifos();
      assert.ok(fifosBefore.length > 0, "the first crib has an exec FIFO pool");
      const own = join(scratch, c.name.replace(/ /g, "-"));
      const common = ["--containerd-address", t.config.containerdAddress, "--namespace", t.config.namespace, "--log-level", "debug"];
      const r = await runSecondCrib([...common, ...c.args(t, own)]);
      assert.equal(r.killed, false, `the second crib kept running: ${r.stderr}`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /another crib is using the/);
      assert.match(r.stderr, c.what);
      assert.match(r.stderr, /two crib processes must never share/);
      // It stopped before containerd: no log line of a connection or a sweep.
      assert.doesNotMatch(r.stderr, /connected to containerd|removing orphaned/);
      await firstCribUntouched(fifosBefore);
    });
  }

  it("a crib killed with SIGKILL leaves no lock behind: the next one on its dirs starts at once", async () => {
    const own = join(scratch, "killed");
    const ns = `${t.config.namespace}-k9`;
    const dirs = { rootDir: join(own, "root"), stateDir: join(own, "state"), listen: join(own, "crib.sock") };
    const args = ["--containerd-address", t.config.containerdAddress, "--namespace", ns, "--root-dir", dirs.rootDir, "--state-dir", dirs.stateDir, "--listen", dirs.listen, "--log-level", "debug"];
    const child = spawn(CRIB_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise((r) => child.once("close", r));
    const deadline = Date.now() + 60_000;
    while (!/serving CRI/.test(stderr)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `the first crib did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    await exited;
    const next = await startTestCrib({ namespace: ns, ...dirs });
    try {
      assert.equal((await next.client.runtime.version({})).runtimeApiVersion, "v1");
    } finally {
      await next.stop();
    }
  });

  it("the lock dies with the first crib: once it stops, a crib on the same dirs starts", async () => {
    const { config } = t;
    await t.containerd.leases.delete({ id: runLease, sync: false });
    await removeNetns(inflightNetns);
    inflightNetns = "";
    await t.removeAllPods();
    await t.stop();
    t = await startTestCrib({ ...config });
    assert.equal((await t.client.runtime.version({})).runtimeApiVersion, "v1");
  });
});
