// Containers end to end: crib in-process on the harness's containerd, busybox images from
// the harness registry, real pods. Asserted is what a kubelet sees (status, exit codes,
// the CRI log file) and what the process inside really got (env, user, cgroup limits,
// capabilities), plus that bad requests leave nothing behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { ContainerState, Signal } from "../../src/gen/runtime/v1/api_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ContainerConfigSchema, PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall, connectCri, type CriClient } from "../client/cri-client.js";
import { loadHarness } from "../harness/env.js";
import { Containerd } from "../../src/containerd/client.js";
import { KNOWN_CAPABILITIES } from "../../src/oci/capabilities.js";
import { DEFAULT_UNIX_CAPS } from "../../src/oci/default-spec.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;
type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;

let seq = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The CRI log file's records as "stream tag content", checking every line's format. */
function logRecords(path: string): string[] {
  if (!existsSync(path)) return [];
  const line = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF]) (.*)$/;
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const m = line.exec(l);
      assert.ok(m, `not a CRI log line: ${JSON.stringify(l)}`);
      return `${m[4]} ${m[5]} ${m[6]}`;
    });
}

describe("containers", () => {
  let t: TestCrib;
  let logRoot: string;
  let busybox: string;
  let busyboxUser: string;

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    busybox = t.harness.images.busybox;
    busyboxUser = t.harness.images.busyboxUser;
    logRoot = join(t.harness.scratchDir, `${t.config.namespace}-logs`);
    mkdirSync(logRoot, { recursive: true });
    await t.client.image.pullImage({ image: { image: busybox } });
    await t.client.image.pullImage({ image: { image: busyboxUser } });
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
  });

  function podConfig(extra: Partial<PodInit> = {}): PodInit {
    seq++;
    const logDirectory = join(logRoot, `pod-${seq}`);
    return {
      metadata: { name: `pod-${seq}`, uid: `uid-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: `pod-${seq}`,
      logDirectory,
      linux: { cgroupParent: `/crib-ctr-test/pod-${seq}` },
      ...extra,
    } as PodInit;
  }

  async function runPod(extra: Partial<PodInit> = {}): Promise<{ id: string; config: PodInit }> {
    const config = podConfig(extra);
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
    return { id: podSandboxId, config };
  }

  function containerConfig(name: string, extra: Partial<ContainerInit> = {}): ContainerInit {
    return { metadata: { name, attempt: 0 }, image: { image: busybox }, logPath: `${name}/0.log`, ...extra } as ContainerInit;
  }

  async function create(pod: { id: string; config: PodInit }, config: ContainerInit): Promise<string> {
    const { containerId } = await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config });
    return containerId;
  }

  async function status(id: string) {
    return (await t.client.runtime.containerStatus({ containerId: id })).status!;
  }

  async function waitExited(id: string, timeoutMs = 20_000) {
    return waitFor(`container ${id} to exit`, async () => {
      const s = await status(id);
      return s.state === ContainerState.CONTAINER_EXITED ? s : undefined;
    }, timeoutMs);
  }

  /** Runs a command to completion and returns its final status and log records. */
  async function runToExit(config: ContainerInit, pod?: { id: string; config: PodInit }) {
    const p = pod ?? (await runPod());
    const id = await create(p, config);
    await t.client.runtime.startContainer({ containerId: id });
    const s = await waitExited(id);
    return { id, status: s, logs: logRecords(s.logPath) };
  }

  it("runs a container: its output lands in the CRI log file and its exit code is reported", async () => {
    const { id, status: s, logs } = await runToExit(
      containerConfig("hello", { command: ["sh", "-c"], args: ["echo hello; echo oops >&2; printf partial; exit 3"] }),
    );
    assert.equal(s.exitCode, 3);
    assert.equal(s.reason, "Error");
    assert.ok(s.startedAt > 0n && s.finishedAt >= s.startedAt, "started and finished times");
    assert.ok(s.logPath.endsWith("hello/0.log"));
    assert.deepEqual(logs.filter((l) => l.startsWith("stdout")), ["stdout F hello", "stdout P partial"]);
    assert.deepEqual(logs.filter((l) => l.startsWith("stderr")), ["stderr F oops"]);
    const list = await t.client.runtime.listContainers({ filter: { id } });
    assert.equal(list.containers.length, 1);
    assert.equal(list.containers[0]!.state, ContainerState.CONTAINER_EXITED);
  });

  it("reports Completed for exit 0 and lists by state, pod and label", async () => {
    const pod = await runPod();
    const done = await runToExit(containerConfig("ok", { command: ["true"], labels: { role: "done" } }), pod);
    assert.equal(done.status.exitCode, 0);
    assert.equal(done.status.reason, "Completed");
    const live = await create(pod, containerConfig("live", { command: ["sleep", "60"], labels: { role: "live" } }));
    await t.client.runtime.startContainer({ containerId: live });
    const byPod = await t.client.runtime.listContainers({ filter: { podSandboxId: pod.id.slice(0, 12) } });
    assert.deepEqual(byPod.containers.map((c) => c.id).sort(), [done.id, live].sort());
    const running = await t.client.runtime.listContainers({ filter: { podSandboxId: pod.id, state: { state: ContainerState.CONTAINER_RUNNING } } });
    assert.deepEqual(running.containers.map((c) => c.id), [live]);
    const labelled = await t.client.runtime.listContainers({ filter: { labelSelector: { role: "done" } } });
    assert.deepEqual(labelled.containers.map((c) => c.id), [done.id]);
    assert.equal(labelled.containers[0]!.labels["io.cri-containerd.kind"], undefined, "CRI labels only");
    await t.client.runtime.stopContainer({ containerId: live, timeout: 0n });
    assert.equal((await status(live)).exitCode, 137);
  });
  it("merges args, env, user and working dir with the image's", async () => {
    // busyboxUser: User 1234:1234, WorkingDir /home/crib, Entrypoint ["/bin/sh","-c"], Cmd ["id"].
    const image = await runToExit(containerConfig("image-defaults", { image: { image: busyboxUser } }));
    assert.equal(image.status.exitCode, 0);
    assert.match(image.logs.join("\n"), /stdout F uid=1234\(crib\) gid=1234\(crib\)/);

    const merged = await runToExit(
      containerConfig("merged", {
        image: { image: busyboxUser },
        // args replace the image's Cmd and keep its Entrypoint (sh -c).
        args: ['echo "A=$A HOSTNAME=$HOSTNAME"; pwd; id -u; id -g; id -G'],
        envs: [{ key: "A", value: "from-config" }],
        workingDir: "/tmp",
        linux: { securityContext: { runAsUser: { value: 0n }, supplementalGroups: [4242n] } },
      }),
    );
    assert.equal(merged.status.exitCode, 0, merged.logs.join("\n"));
    const out = merged.logs.filter((l) => l.startsWith("stdout F ")).map((l) => l.slice("stdout F ".length));
    assert.match(out[0]!, /^A=from-config HOSTNAME=pod-\d+$/);
    assert.deepEqual(out.slice(1, 4), ["/tmp", "0", "0"]);
    assert.ok(out[4]!.split(" ").includes("4242"), `supplemental group in ${out[4]}`);

    const cmd = await runToExit(containerConfig("command", { image: { image: busyboxUser }, command: ["echo"], args: ["replaced", "entrypoint"] }));
    assert.deepEqual(cmd.logs, ["stdout F replaced entrypoint"]);
    const st = await t.client.runtime.containerStatus({ containerId: cmd.id });
    assert.equal(st.status!.user?.linux?.uid, 1234n);
    assert.equal(st.status!.user?.linux?.gid, 1234n);
  });

  it("runs with a terminal and stdin: one stream, CRLF turned into records", async () => {
    const { status: s, logs } = await runToExit(
      containerConfig("tty", { tty: true, stdin: true, command: ["sh", "-c", "tty; echo to-stderr >&2; echo done"] }),
    );
    assert.equal(s.exitCode, 0);
    assert.deepEqual(logs, ["stdout F /dev/pts/0", "stdout F to-stderr", "stdout F done"]);
  });

  it("reports StartError with 128 when the process cannot be started", async () => {
    const pod = await runPod();
    const id = await create(pod, containerConfig("nostart", { command: ["/no/such/binary"] }));
    assert.notEqual(await codeOfCall(t.client.runtime.startContainer({ containerId: id })), Code.OK);
    const s = await status(id);
    assert.equal(s.state, ContainerState.CONTAINER_EXITED);
    assert.equal(s.exitCode, 128);
    assert.equal(s.reason, "StartError");
    assert.match(s.message, /no such file/i);
    assert.equal(await codeOfCall(t.containerd.tasks.get({ containerId: id })), Code.NOT_FOUND, "no task left");
    // A second start is refused; removal works.
    assert.equal(await codeOfCall(t.client.runtime.startContainer({ containerId: id })), Code.FAILED_PRECONDITION);
    await t.client.runtime.removeContainer({ containerId: id });
  });

  it("makes the root filesystem read-only when asked", async () => {
    const ro = await runToExit(
      containerConfig("ro", {
        command: ["sh", "-c", "touch /x 2>/dev/null && echo wrote-root; echo ok > /dev/shm/f && echo wrote-shm; exit 0"],
        linux: { securityContext: { readonlyRootfs: true } },
      }),
    );
    assert.deepEqual(ro.logs, ["stdout F wrote-shm"]);
    const rw = await runToExit(containerConfig("rw", { command: ["sh", "-c", "touch /x && echo wrote-root"] }));
    assert.deepEqual(rw.logs, ["stdout F wrote-root"]);
  });

  it("gives the process the default capabilities plus added minus dropped", async () => {
    const { logs } = await runToExit(
      containerConfig("caps", {
        command: ["sh", "-c", "grep -E '^Cap(Eff|Bnd):' /proc/self/status"],
        linux: { securityContext: { capabilities: { addCapabilities: ["NET_ADMIN"], dropCapabilities: ["CHOWN"] } } },
      }),
    );
    const want = new Set([...DEFAULT_UNIX_CAPS.filter((c) => c !== "CAP_CHOWN"), "CAP_NET_ADMIN"]);
    let mask = 0n;
    KNOWN_CAPABILITIES.forEach((c, bit) => {
      if (want.has(c)) mask |= 1n << BigInt(bit);
    });
    const hex = mask.toString(16).padStart(16, "0");
    assert.deepEqual(logs, [`stdout F CapEff:\t${hex}`, `stdout F CapBnd:\t${hex}`]);
  });

  it("puts the memory limit into the container's cgroup and updates it; a refused update changes nothing", async () => {
    const pod = await runPod();
    const id = await create(pod, containerConfig("mem", { command: ["sleep", "60"], linux: { resources: { memoryLimitInBytes: 64n << 20n, cpuShares: 256n } } }));
    await t.client.runtime.startContainer({ containerId: id });
    const info = JSON.parse((await t.client.runtime.containerStatus({ containerId: id, verbose: true })).info["info"]!);
    assert.equal(info.sandboxID, pod.id);
    assert.ok(info.pid > 0);
    assert.equal(info.snapshotKey, id);
    assert.equal(info.runtimeType, "io.containerd.runc.v2");
    assert.equal(info.config.metadata.name, "mem");
    const cgroupsPath: string = info.runtimeSpec.linux.cgroupsPath;
    assert.equal(cgroupsPath, `/crib-ctr-test/pod-${seq}/${id}`);
    const limitFile = join("/sys/fs/cgroup/memory", cgroupsPath, "memory.limit_in_bytes");
    assert.equal(readFileSync(limitFile, "utf8").trim(), String(64 << 20));
    assert.equal(readFileSync(join("/sys/fs/cgroup/cpu", cgroupsPath, "cpu.shares"), "utf8").trim(), "256");
    assert.equal((await status(id)).resources?.linux?.memoryLimitInBytes, 64n << 20n);

    await t.client.runtime.updateContainerResources({ containerId: id, linux: { memoryLimitInBytes: 96n << 20n } });
    assert.equal(readFileSync(limitFile, "utf8").trim(), String(96 << 20));
    assert.equal((await status(id)).resources?.linux?.memoryLimitInBytes, 96n << 20n);

    // CPUs this machine does not have: runc refuses, and the stored spec must not keep them.
    const code = await codeOfCall(t.client.runtime.updateContainerResources({ containerId: id, linux: { cpusetCpus: "1000-1001", memoryLimitInBytes: 128n << 20n } }));
    assert.notEqual(code, Code.OK);
    const after = JSON.parse((await t.client.runtime.containerStatus({ containerId: id, verbose: true })).info["info"]!);
    assert.equal(after.runtimeSpec.linux.resources.memory.limit, 96 << 20);
    assert.equal(after.runtimeSpec.linux.resources.cpu.cpus, undefined);
    assert.equal((await status(id)).resources?.linux?.memoryLimitInBytes, 96n << 20n);
    const stored = await t.containerd.containers.get({ id });
    const spec = JSON.parse(Buffer.from(stored.container!.spec!.value).toString());
    assert.equal(spec.linux.resources.memory.limit, 96 << 20, "containerd's copy restored too");
    await t.client.runtime.stopContainer({ containerId: id, timeout: 0n });
  });

  it("reports OOMKilled with 137 for a container the kernel's OOM killer ended", async () => {
    const { status: s } = await runToExit(
      containerConfig("oom", {
        // Holds ever more memory in a shell variable until the 16 MiB cgroup limit is hit.
        command: ["sh", "-c", "x=$(head -c 268435456 /dev/zero | tr '\\0' a); echo survived"],
        linux: { resources: { memoryLimitInBytes: 16n << 20n } },
      }),
    );
    assert.equal(s.exitCode, 137);
    assert.equal(s.reason, "OOMKilled");
  });

  it("ExecSync returns output and exit code, honours the timeout, and survives 100 concurrent calls", async () => {
    const pod = await runPod();
    const id = await create(pod, containerConfig("exec", { command: ["sleep", "300"], envs: [{ key: "FROM", value: "container" }] }));
    await t.client.runtime.startContainer({ containerId: id });

    const r = await t.client.runtime.execSync({ containerId: id, cmd: ["sh", "-c", "echo out $FROM; echo err >&2; exit 4"], timeout: 0n });
    assert.equal(Buffer.from(r.stdout).toString(), "out container\n");
    assert.equal(Buffer.from(r.stderr).toString(), "err\n");
    assert.equal(r.exitCode, 4);

    const started = Date.now();
    const code = await codeOfCall(t.client.runtime.execSync({ containerId: id, cmd: ["sleep", "30"], timeout: 1n }));
    assert.equal(code, Code.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 10_000, "timeout honoured");
    // The killed exec is gone: only the container's own sleep is left.
    const ps = await t.client.runtime.execSync({ containerId: id, cmd: ["ps", "-o", "comm"], timeout: 10n });
    assert.equal(Buffer.from(ps.stdout).toString().split("\n").filter((l) => l.trim() === "sleep").length, 1);

    const calls = Array.from({ length: 100 }, (_, i) =>
      t.client.runtime.execSync({ containerId: id, cmd: ["sh", "-c", `echo ${i}; exit ${i % 7}`], timeout: 30n }),
    );
    const results = await Promise.all(calls);
    results.forEach((res, i) => {
      assert.equal(Buffer.from(res.stdout).toString(), `${i}\n`);
      assert.equal(res.exitCode, i % 7);
    });
    const execFifos = readdirSync(join(t.config.stateDir, "containers", id, "io")).filter((f) => !f.startsWith(id));
    assert.deepEqual(execFifos, [], "exec FIFOs removed");
    // ExecSync's FIFOs are the pool's own, used in its dir: what is left there is what the
    // pool holds ready (fewer than half a batch of 64 when a refill of 64 starts, so at most
    // 95), not the 200 FIFOs of the 100 calls.
    const pooled = readdirSync(join(t.config.stateDir, "fifo-pool"));
    assert.ok(pooled.length <= 95, `${pooled.length} FIFOs left in the pool's dir`);

    // More output than ExecSync keeps: no crash, and the container still serves execs.
    await codeOfCall(t.client.runtime.execSync({ containerId: id, cmd: ["sh", "-c", "head -c 20000000 /dev/zero"], timeout: 30n }));
    const again = await t.client.runtime.execSync({ containerId: id, cmd: ["echo", "alive"], timeout: 10n });
    assert.equal(Buffer.from(again.stdout).toString(), "alive\n");

    await t.client.runtime.stopContainer({ containerId: id, timeout: 0n });
    assert.equal(await codeOfCall(t.client.runtime.execSync({ containerId: id, cmd: ["true"], timeout: 0n })), Code.FAILED_PRECONDITION);
  });

  it("stops with the stop signal, escalates to SIGKILL after the timeout, and is idempotent", async () => {
    const pod = await runPod();
    const graceful = await create(pod, containerConfig("graceful", { command: ["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done"] }));
    const stubborn = await create(pod, containerConfig("stubborn", { command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"] }));
    const custom = await create(
      pod,
      containerConfig("custom", { command: ["sh", "-c", "trap 'exit 9' USR1; while true; do sleep 0.1; done"], stopSignal: Signal.SIGUSR1 }),
    );
    for (const id of [graceful, stubborn, custom]) await t.client.runtime.startContainer({ containerId: id });
    await sleep(300); // let the shells install their traps

    let t0 = Date.now();
    await t.client.runtime.stopContainer({ containerId: graceful, timeout: 10n });
    assert.ok(Date.now() - t0 < 5000);
    assert.equal((await status(graceful)).exitCode, 7);

    t0 = Date.now();
    await t.client.runtime.stopContainer({ containerId: stubborn, timeout: 2n });
    const took = Date.now() - t0;
    assert.ok(took >= 1900 && took < 10_000, `escalation after the timeout (${took} ms)`);
    const s = await status(stubborn);
    assert.equal(s.state, ContainerState.CONTAINER_EXITED);
    assert.equal(s.exitCode, 137);

    await t.client.runtime.stopContainer({ containerId: custom, timeout: 10n });
    assert.equal((await status(custom)).exitCode, 9);
    assert.equal((await status(custom)).stopSignal, Signal.SIGUSR1);

    await t.client.runtime.stopContainer({ containerId: stubborn, timeout: 10n });
    await t.client.runtime.stopContainer({ containerId: "no-such-container", timeout: 10n });
  });

  it("removes task, container, snapshot and FIFOs but keeps the log file; idempotent", async () => {
    const pod = await runPod();
    const id = await create(pod, containerConfig("rm", { command: ["sh", "-c", "echo bye; sleep 60"] }));
    await t.client.runtime.startContainer({ containerId: id });
    const logPath = (await status(id)).logPath;
    await waitFor("log line", async () => (logRecords(logPath).length > 0 ? true : undefined));
    // Remove forces the stop itself.
    await t.client.runtime.removeContainer({ containerId: id });
    assert.equal(await codeOfCall(t.client.runtime.containerStatus({ containerId: id })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.containerd.containers.get({ id })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.containerd.tasks.get({ containerId: id })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.containerd.snapshots.stat({ snapshotter: "overlayfs", key: id })), Code.NOT_FOUND);
    assert.equal(existsSync(join(t.config.stateDir, "containers", id)), false);
    assert.equal(existsSync(join(t.config.rootDir, "containers", id)), false);
    assert.deepEqual(logRecords(logPath), ["stdout F bye"]);
    await t.client.runtime.removeContainer({ containerId: id });
  });

  it("reopens the log file after rotation, and refuses for a container that is not running", async () => {
    const pod = await runPod();
    const id = await create(pod, containerConfig("rotate", { command: ["sh", "-c", "i=0; while true; do echo line$i; i=$((i+1)); sleep 0.05; done"] }));
    await t.client.runtime.startContainer({ containerId: id });
    const logPath = (await status(id)).logPath;
    await waitFor("a few lines", async () => (logRecords(logPath).length >= 3 ? true : undefined));
    const { renameSync } = await import("node:fs");
    renameSync(logPath, `${logPath}.1`);
    await t.client.runtime.reopenContainerLog({ containerId: id });
    await waitFor("lines in the new file", async () => (logRecords(logPath).length >= 3 ? true : undefined));
    await t.client.runtime.stopContainer({ containerId: id, timeout: 0n });
    // Nothing lost or repeated across the rotation.
    const all = [...logRecords(`${logPath}.1`), ...logRecords(logPath)].map((l) => Number(l.replace("stdout F line", "")));
    assert.deepEqual(all, all.map((_, i) => i));
    assert.equal(await codeOfCall(t.client.runtime.reopenContainerLog({ containerId: id })), Code.FAILED_PRECONDITION);
  });

  it("answers a retried CreateContainer with the first id, a clashing one with ALREADY_EXISTS", async () => {
    const pod = await runPod();
    const config = containerConfig("retry", { command: ["true"] });
    const [a, b] = await Promise.all([create(pod, config), create(pod, config)]);
    assert.equal(a, b);
    assert.equal(await create(pod, config), a);
    assert.equal(await codeOfCall(create(pod, { ...config, args: ["different"] } as ContainerInit)), Code.ALREADY_EXISTS);
    assert.equal((await t.client.runtime.listContainers({ filter: { podSandboxId: pod.id } })).containers.length, 1);
  });

  it("rejects bad requests with the right code and leaves nothing behind", async () => {
    const pod = await runPod();
    const before = {
      containers: (await t.containerd.containers.list({ filters: [] })).containers.length,
      dirs: existsSync(join(t.config.rootDir, "containers")) ? readdirSync(join(t.config.rootDir, "containers")).length : 0,
    };
    const cases: [string, Promise<unknown>, number][] = [
      ["unknown sandbox", t.client.runtime.createContainer({ podSandboxId: "no-such-pod", config: containerConfig("x"), sandboxConfig: pod.config }), Code.NOT_FOUND],
      ["missing image", create(pod, containerConfig("noimg", { image: { image: `${t.harness.registry.host}/nope:1` } })), Code.NOT_FOUND],
      ["no metadata", t.client.runtime.createContainer({ podSandboxId: pod.id, config: { image: { image: busybox } }, sandboxConfig: pod.config }), Code.INVALID_ARGUMENT],
      ["log path escaping the pod log dir", create(pod, containerConfig("esc", { logPath: "../../../../etc/crib-escape.log" })), Code.INVALID_ARGUMENT],
      ["relative mount destination", create(pod, containerConfig("badmount", { mounts: [{ containerPath: "data", hostPath: "/tmp" }] })), Code.INVALID_ARGUMENT],
      ["mount without host path", create(pod, containerConfig("badmount2", { mounts: [{ containerPath: "/data", hostPath: "" }] })), Code.INVALID_ARGUMENT],
      ["unknown capability set on a privileged container of an unprivileged pod", create(pod, containerConfig("priv", { linux: { securityContext: { privileged: true } } })), Code.INVALID_ARGUMENT],
    ];
    for (const [what, call, want] of cases) assert.equal(await codeOfCall(call), want, what);
    assert.equal((await t.containerd.containers.list({ filters: [] })).containers.length, before.containers, "no containerd containers left");
    const dirs = existsSync(join(t.config.rootDir, "containers")) ? readdirSync(join(t.config.rootDir, "containers")).length : 0;
    assert.equal(dirs, before.dirs, "no container dirs left");
    const leases = (await t.containerd.leases.list({ filters: [] })).leases.filter((l) => l.id.startsWith("crib-run-"));
    assert.deepEqual(leases, [], "no leases left");
    assert.equal((await t.client.runtime.listContainers({ filter: { podSandboxId: pod.id } })).containers.length, 0);
    // The failed names are free again.
    const ok = await create(pod, containerConfig("esc", { command: ["true"] }));
    assert.ok(ok);
  });

  it("stops and removes a pod's containers with the pod", async () => {
    const pod = await runPod();
    const id = await create(pod, containerConfig("child", { command: ["sleep", "60"] }));
    await t.client.runtime.startContainer({ containerId: id });
    await t.client.runtime.stopPodSandbox({ podSandboxId: pod.id });
    assert.equal((await status(id)).state, ContainerState.CONTAINER_EXITED);
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id });
    assert.equal(await codeOfCall(t.client.runtime.containerStatus({ containerId: id })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.containerd.containers.get({ id })), Code.NOT_FOUND);
  });
});

/** crib as a separate process, so that a test can kill -9 it and start it again. */
class CribProcess {
  child: ChildProcess | undefined;
  client: CriClient | undefined;
  constructor(
    readonly dir: string,
    readonly namespace: string,
  ) {}

  get socket(): string {
    return join(this.dir, "crib.sock");
  }

  async start(): Promise<CriClient> {
    const h = loadHarness();
    const configFile = join(this.dir, "crib.toml");
    writeFileSync(
      configFile,
      [
        `sandbox_image = ${JSON.stringify(h.images.pause)}`,
        "restrict_oom_score_adj = true",
        "[registry]",
        `config_path = ${JSON.stringify(h.hostsDir)}`,
        "[cni]",
        `bin_dir = ${JSON.stringify(h.cni.binDir)}`,
        `conf_dir = ${JSON.stringify(h.cni.confDir)}`,
      ].join("\n") + "\n",
    );
    const log = openSync(join(this.dir, "crib.log"), "a");
    const main = join(process.cwd(), "src", "main.ts");
    this.child = spawn(
      process.execPath,
      ["--import", "tsx", main, "--config", configFile, "--listen", this.socket, "--containerd-address", h.containerd.address, "--namespace", this.namespace,
        "--root-dir", join(this.dir, "root"), "--state-dir", join(this.dir, "state"), "--log-format", "text", "--log-level", "debug"],
      { stdio: ["ignore", log, log] },
    );
    this.client?.close();
    const client = connectCri(this.socket, 60_000);
    this.client = client;
    await waitFor("crib to serve", async () => ((await codeOfCall(client.runtime.version({}))) === Code.OK ? true : undefined), 60_000);
    return client;
  }

  async kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    this.client?.close();
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await Promise.race([exited, sleep(10_000)]);
    if (c.exitCode === null && c.signalCode === null) await this.kill9();
  }
}

describe("containers across a kill -9 of crib", () => {
  let crib: CribProcess;
  before(() => {
    const h = loadHarness();
    const namespace = `crib-containers-restart-${randomBytes(3).toString("hex")}`;
    const dir = join(h.scratchDir, namespace);
    mkdirSync(dir, { recursive: true });
    crib = new CribProcess(dir, namespace);
  });
  after(async () => {
    const c = crib.client;
    if (c && crib.child?.exitCode === null) {
      for (const p of (await c.runtime.listPodSandbox({})).items) await c.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
    }
    await crib.stop();
  });

  it("re-attaches the log pump without losing a line and reports exits that happened meanwhile", async () => {
    let c = await crib.start();
    const h = loadHarness();
    await c.image.pullImage({ image: { image: h.images.busybox } });
    const logDirectory = join(crib.dir, "pod-logs");
    const podConfig = { metadata: { name: "survivor", uid: `survivor-${process.pid}`, namespace: "default", attempt: 0 }, logDirectory, linux: { cgroupParent: "/crib-ctr-test/survivor" } };
    const { podSandboxId } = await c.runtime.runPodSandbox({ config: podConfig });
    const mk = async (name: string, script: string) =>
      (
        await c.runtime.createContainer({
          podSandboxId,
          sandboxConfig: podConfig,
          config: { metadata: { name, attempt: 0 }, image: { image: h.images.busybox }, command: ["sh", "-c", script], logPath: `${name}.log` },
        })
      ).containerId;
    const counter = await mk("counter", "i=0; while [ $i -lt 100000 ]; do echo n$i; i=$((i+1)); sleep 0.02; done");
    const exiter = await mk("exiter", "sleep 2; echo last words; exit 5");
    const later = await mk("later", "echo started after the restart");
    const victim = await mk("victim", "sleep 600");
    await c.runtime.startContainer({ containerId: counter });
    await c.runtime.startContainer({ containerId: exiter });
    await c.runtime.startContainer({ containerId: victim });
    const counterLog = join(logDirectory, "counter.log");
    await waitFor("counter output", async () => (logRecords(counterLog).length >= 10 ? true : undefined));

    await crib.kill9();
    // Someone removes the victim's task behind crib's back: how it ended is unknowable.
    const cd = new Containerd({ address: h.containerd.address, namespace: crib.namespace });
    try {
      await cd.tasks.kill({ containerId: victim, signal: 9, all: true });
      await waitFor("victim's task to stop", async () => ((await cd.tasks.get({ containerId: victim })).process?.status === 3 ? true : undefined));
      await cd.tasks.delete({ containerId: victim });
    } finally {
      cd.close();
    }
    await sleep(3000); // the counter keeps writing into the pipe; the exiter exits
    const seenBefore = logRecords(counterLog).length;

    c = await crib.start();
    await waitFor("output written while crib was down", async () => (logRecords(counterLog).length >= seenBefore + 150 ? true : undefined));
    const numbers = logRecords(counterLog).map((l) => {
      assert.match(l, /^stdout F n\d+$/);
      return Number(l.slice("stdout F n".length));
    });
    assert.deepEqual(numbers, numbers.map((_, i) => i), "every line once, in order, across the restart");

    const ex = (await c.runtime.containerStatus({ containerId: exiter })).status!;
    assert.equal(ex.state, ContainerState.CONTAINER_EXITED);
    assert.equal(ex.exitCode, 5);
    assert.equal((await c.runtime.containerStatus({ containerId: counter })).status!.state, ContainerState.CONTAINER_RUNNING);
    const lost = (await c.runtime.containerStatus({ containerId: victim })).status!;
    assert.equal(lost.state, ContainerState.CONTAINER_EXITED);
    assert.equal(lost.exitCode, 255);
    assert.equal(lost.reason, "Unknown");

    // A container created before the crash starts normally afterwards.
    assert.equal((await c.runtime.containerStatus({ containerId: later })).status!.state, ContainerState.CONTAINER_CREATED);
    await c.runtime.startContainer({ containerId: later });
    await waitFor("later's output", async () => (logRecords(join(logDirectory, "later.log")).length > 0 ? true : undefined));
    assert.deepEqual(logRecords(join(logDirectory, "later.log")), ["stdout F started after the restart"]);

    // Exits after the restart are seen again.
    await c.runtime.stopContainer({ containerId: counter, timeout: 5n });
    assert.equal((await c.runtime.containerStatus({ containerId: counter })).status!.state, ContainerState.CONTAINER_EXITED);
    await c.runtime.removePodSandbox({ podSandboxId });
    assert.equal((await c.runtime.listContainers({})).containers.length, 0);
  });
});
