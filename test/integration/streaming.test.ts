// Exec, Attach and PortForward end to end: crib in-process on the harness's containerd,
// busybox pods, and crib's own SPDY and WebSocket clients doing what client-go (kubectl,
// crictl) does with the URLs. Asserted is what the client sees (output, exit code, errors)
// and that nothing is left behind (exec processes, FIFOs, forwarders).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ContainerState, type ContainerConfigSchema, type PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall } from "../client/cri-client.js";
import {
  dialPortForward,
  openSpdyRemoteCommand,
  readAll,
  roundTrip,
  runSpdyRemoteCommand,
  runWebSocketRemoteCommand,
} from "../client/streaming-client.js";
import { SpdyUpgradeError } from "../client/spdy-client.js";
import { dialSpdy } from "../client/spdy-client.js";
import { dialSpdyOverWebSocket, dialPortForwardChannels } from "../client/websocket-client.js";
import { SUPPORTED_STREAM_PROTOCOLS } from "../../src/streaming/remotecommand/constants.js";
import { readAll as readChannel } from "../client/streaming-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { startFakeApiServer } from "./helpers/fake-apiserver.js";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";

/** A real kubectl (client-go), when this machine has one. */
const KUBECTL = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0 ? "kubectl" : undefined;

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCommand(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(opts.input ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;
type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;

function readBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("close", () => resolve(Buffer.concat(chunks)));
  });
}

/** crib's forwarder processes (socat, possibly still as nsenter) still alive. */
function forwarderChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && (comm === "socat" || comm === "nsenter")) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Reads a stream until what arrived satisfies `done` (or the stream ends); leaves it flowing. */
function readUntil(stream: NodeJS.ReadableStream, done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  let text = "";
  return new Promise((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.resume();
      resolve(text);
    };
    const onData = (c: Buffer) => {
      text += c.toString();
      if (done(text)) finish();
    };
    const timer = setTimeout(() => reject(new Error(`timed out reading; got ${JSON.stringify(text)}`)), timeoutMs);
    stream.on("data", onData);
    stream.once("end", finish);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** kubectl's stderr without client-go's klog lines ("E1203 16:09:06.961636   15631 websocket.go:296] ..."). */
function withoutKlogLines(stderr: string): string {
  return stderr.replace(/^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [\w.-]+:\d+\] .*\n/gm, "");
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("streaming", () => {
  let t: TestCrib;
  let busybox: string;
  let logRoot: string;
  let seq = 0;

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    busybox = t.harness.images.busybox;
    logRoot = join(t.harness.scratchDir, `${t.config.namespace}-logs`);
    mkdirSync(logRoot, { recursive: true });
    await t.client.image.pullImage({ image: { image: busybox } });
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
  });

  function podConfig(extra: Partial<PodInit> = {}): PodInit {
    seq++;
    return {
      metadata: { name: `pod-${seq}`, uid: `uid-${seq}-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: `pod-${seq}`,
      logDirectory: join(logRoot, `pod-${seq}`),
      linux: { cgroupParent: `/crib-stream-test/pod-${seq}` },
      ...extra,
    } as PodInit;
  }

  async function runPod(extra: Partial<PodInit> = {}) {
    const config = podConfig(extra);
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
    return { id: podSandboxId, config };
  }

  async function startContainer(pod: { id: string; config: PodInit }, name: string, extra: Partial<ContainerInit> = {}): Promise<string> {
    const config = { metadata: { name, attempt: 0 }, image: { image: busybox }, logPath: `${name}/0.log`, command: ["sleep", "3600"], ...extra } as ContainerInit;
    const { containerId } = await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config });
    await t.client.runtime.startContainer({ containerId });
    return containerId;
  }

  async function execUrl(containerId: string, cmd: string[], o: { stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean } = {}) {
    const tty = o.tty ?? false;
    const r = await t.client.runtime.exec({ containerId, cmd, stdin: o.stdin ?? false, stdout: o.stdout ?? true, stderr: o.stderr ?? !tty, tty });
    return r.url;
  }

  /** Exec processes containerd still has for the container (none once a session is over). */
  async function execProcesses(containerId: string): Promise<string[]> {
    const r = await t.containerd.tasks.listPids({ containerId });
    return r.processes.map((p) => String(p.pid));
  }

  /**
   * Exec FIFOs still around: any in the container's io dir besides its own stdio, and any
   * set in crib's exec FIFO pool that is no longer whole (a ready set has all three).
   */
  function execFifos(containerId: string): string[] {
    const io = join(t.config.stateDir, "containers", containerId, "io");
    const strays = existsSync(io) ? readdirSync(io).filter((f) => !f.startsWith(containerId)) : [];
    const pool = join(t.config.stateDir, "exec-fifos");
    const sets = new Map<string, string[]>();
    for (const f of existsSync(pool) ? readdirSync(pool) : []) {
      const id = f.slice(0, f.lastIndexOf("-"));
      sets.set(id, [...(sets.get(id) ?? []), f]);
    }
    return [...strays, ...[...sets.values()].filter((files) => files.length !== 3).flat()];
  }

  let shared: { id: string; config: PodInit };
  let sleeper: string;
  before(async () => {
    shared = await runPod();
    sleeper = await startContainer(shared, "sleeper");
  });

  describe("exec", () => {
    it("returns an absolute URL on the streaming server", async () => {
      const url = await execUrl(sleeper, ["true"]);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{22,}$/);
    });

    it("keeps stdout and stderr apart and reports the exit code (SPDY v4)", async () => {
      const url = await execUrl(sleeper, ["sh", "-c", "echo out; echo err >&2; exit 3"]);
      const r = await runSpdyRemoteCommand(url, { stdout: true, stderr: true });
      assert.equal(r.protocol, "v4.channel.k8s.io");
      assert.equal(r.stdout, "out\n");
      assert.equal(r.stderr, "err\n");
      assert.equal(r.exitCode, 3);
    });

    it("reports success as exit code 0 and runs with the container's process defaults", async () => {
      const url = await execUrl(sleeper, ["sh", "-c", "echo $HOSTNAME; pwd; id -u"]);
      const r = await runSpdyRemoteCommand(url, { stdout: true, stderr: true });
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout, `${shared.config.hostname}\n/\n0\n`);
      assert.equal(r.stderr, "");
    });

    it("pipes stdin through cat and closes it at EOF", async () => {
      const url = await execUrl(sleeper, ["cat"], { stdin: true });
      const r = await runSpdyRemoteCommand(url, { stdin: true, stdout: true, stderr: true, input: "line one\nline two\n" });
      assert.equal(r.stdout, "line one\nline two\n");
      assert.equal(r.exitCode, 0);
    });

    it("allocates a terminal and applies resize events (stty size)", async () => {
      const url = await execUrl(sleeper, ["sh"], { stdin: true, tty: true });
      const { session, streams } = await openSpdyRemoteCommand(url, { stdin: true, tty: true });
      const out = readAll(streams.stdout);
      const status = readAll(streams.error);
      streams.resize!.write(JSON.stringify({ Width: 123, Height: 45 }));
      await sleep(300);
      streams.stdin!.write("stty size; tty; exit 7\n");
      const [stdout, errorText] = await Promise.all([out, status]);
      await session.connection.close();
      assert.match(stdout, /45 123\r\n/);
      assert.match(stdout, /\/dev\/pts\/\d+\r\n/);
      assert.match(errorText, /"ExitCode".*"7"|"message":"7"/);
    });

    it("speaks the older SPDY protocols (v2: no status JSON, no resize)", async () => {
      const ok = await runSpdyRemoteCommand(await execUrl(sleeper, ["echo", "v2"]), { protocols: ["v2.channel.k8s.io"] });
      assert.equal(ok.protocol, "v2.channel.k8s.io");
      assert.equal(ok.stdout, "v2\n");
      assert.equal(ok.exitCode, 0);
    });

    it("runs over WebSocket v5 and v4 (crictl --transport websocket)", async () => {
      const v5 = await runWebSocketRemoteCommand(await execUrl(sleeper, ["sh", "-c", "cat; echo err >&2; exit 2"], { stdin: true }), {
        stdin: true,
        input: "via websocket\n",
      });
      assert.equal(v5.protocol, "v5.channel.k8s.io");
      assert.equal(v5.stdout, "via websocket\n");
      assert.equal(v5.stderr, "err\n");
      assert.equal(v5.exitCode, 2);
      const v4 = await runWebSocketRemoteCommand(await execUrl(sleeper, ["echo", "v4"]), { protocols: ["v4.channel.k8s.io"] });
      assert.equal(v4.protocol, "v4.channel.k8s.io");
      assert.equal(v4.stdout, "v4\n");
      assert.equal(v4.exitCode, 0);
    });

    it("reports a command that cannot start as an internal error, leaving nothing behind", async () => {
      const r = await runSpdyRemoteCommand(await execUrl(sleeper, ["/no/such/binary"]), {});
      assert.equal(r.exitCode, undefined);
      assert.match(r.error ?? "", /^Internal error occurred: error executing command in container: failed to exec in container: failed to start exec .*no such file/i);
      await waitFor("exec processes to go", async () => ((await execProcesses(sleeper)).length === 1 ? true : undefined));
      // The pool refills in the background (a set being made has fewer than 3 FIFOs for a
      // moment): a leaked set never goes, a set in the making completes.
      await waitFor("no exec FIFOs left", () => (execFifos(sleeper).length === 0 ? true : undefined));
    });

    it("deletes the exec process and its FIFOs afterwards", async () => {
      await runSpdyRemoteCommand(await execUrl(sleeper, ["true"]), {});
      await waitFor("exec processes to go", async () => ((await execProcesses(sleeper)).length === 1 ? true : undefined));
      // The pool refills in the background (a set being made has fewer than 3 FIFOs for a
      // moment): a leaked set never goes, a set in the making completes.
      await waitFor("no exec FIFOs left", () => (execFifos(sleeper).length === 0 ? true : undefined));
    });

    it("kills the process when the client goes away", async () => {
      const url = await execUrl(sleeper, ["sleep", "1000"]);
      const { session } = await openSpdyRemoteCommand(url, {});
      await waitFor("the exec process", async () => ((await execProcesses(sleeper)).length === 2 ? true : undefined));
      session.connection.destroy();
      await waitFor("the exec process to be killed", async () => ((await execProcesses(sleeper)).length === 1 ? true : undefined));
      await waitFor("the FIFOs to go", () => (execFifos(sleeper).length === 0 ? true : undefined));
    });

    it("holds the process back while the client does not read, and loses nothing", async () => {
      const cmd = ["sh", "-c", "seq 1 300000; touch /tmp/bp-done"];
      const { session, streams } = await openSpdyRemoteCommand(await execUrl(sleeper, cmd), {});
      const statusText = readAll(streams.error);
      streams.stdout!.pause();
      await sleep(1500);
      const check = await runSpdyRemoteCommand(await execUrl(sleeper, ["test", "-e", "/tmp/bp-done"]), {});
      assert.equal(check.exitCode, 1, "the process is blocked on its output (~2 MB) while nobody reads");
      const out = await readAll(streams.stdout);
      const status = await statusText;
      await session.connection.close();
      const lines = out.split("\n");
      assert.equal(lines.length, 300001);
      assert.equal(lines[299999], "300000");
      assert.match(status, /"status":"Success"/);
    });

    it("runs 50 concurrent sessions, each with its own output and exit code", async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const url = await execUrl(sleeper, ["sh", "-c", `echo session-${i}; exit ${i % 7}`]);
          return runSpdyRemoteCommand(url, {});
        }),
      );
      results.forEach((r, i) => {
        assert.equal(r.stdout, `session-${i}\n`);
        assert.equal(r.exitCode, i % 7);
      });
      await waitFor("exec processes to go", async () => ((await execProcesses(sleeper)).length === 1 ? true : undefined));
    });

    it("validates the request", async () => {
      const base = { containerId: sleeper, cmd: ["true"], stdin: false, stdout: true, stderr: true, tty: false };
      assert.equal(await codeOfCall(t.client.runtime.exec({ ...base, cmd: [] })), Code.INVALID_ARGUMENT);
      assert.equal(await codeOfCall(t.client.runtime.exec({ ...base, stdout: false, stderr: false })), Code.INVALID_ARGUMENT);
      assert.equal(await codeOfCall(t.client.runtime.exec({ ...base, tty: true })), Code.INVALID_ARGUMENT, "tty with stderr");
      assert.equal(await codeOfCall(t.client.runtime.exec({ ...base, containerId: "" })), Code.INVALID_ARGUMENT);
      assert.equal(await codeOfCall(t.client.runtime.exec({ ...base, containerId: "nonexistent" })), Code.NOT_FOUND);
      const pod = await runPod();
      const exited = await startContainer(pod, "exited", { command: ["true"] });
      await waitFor("the container to exit", async () => {
        const s = await t.client.runtime.containerStatus({ containerId: exited });
        return s.status!.state === ContainerState.CONTAINER_EXITED ? true : undefined;
      });
      assert.equal(await codeOfCall(t.client.runtime.exec({ ...base, containerId: exited })), Code.FAILED_PRECONDITION);
    });
  });

  describe("attach", () => {
    async function attachUrl(containerId: string, o: { stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean } = {}) {
      const tty = o.tty ?? false;
      const r = await t.client.runtime.attach({ containerId, stdin: o.stdin ?? false, stdout: o.stdout ?? true, stderr: o.stderr ?? !tty, tty });
      return r.url;
    }

    it("joins a running container's output; the CRI log keeps every line; detaching leaves it running", async () => {
      const pod = await runPod();
      const id = await startContainer(pod, "counter", { command: ["sh", "-c", "i=0; while true; do echo $i; echo e$i >&2; i=$((i+1)); sleep 0.1; done"] });
      const { session, streams } = await openSpdyRemoteCommand(await attachUrl(id), { stdout: true, stderr: true });
      const out = await readUntil(streams.stdout!, (s) => s.split("\n").length > 6);
      const err = await readUntil(streams.stderr!, (s) => s.split("\n").length > 3);
      session.connection.destroy();
      const seen = out.split("\n").filter((l) => l !== "").map(Number);
      seen.forEach((n, i) => i > 0 && assert.equal(n, seen[i - 1]! + 1, `consecutive numbers in ${out}`));
      assert.match(err, /^e\d+\n/);
      // Still running after the client left, and the log has every line, the attached ones included.
      await sleep(500);
      const st = (await t.client.runtime.containerStatus({ containerId: id })).status!;
      assert.equal(st.state, ContainerState.CONTAINER_RUNNING);
      const logged = readFileSync(st.logPath, "utf8")
        .split("\n")
        .filter((l) => / stdout F /.test(l))
        .map((l) => Number(l.split(" F ")[1]));
      assert.ok(logged.length > seen[seen.length - 1]! + 2, "output after the detach is logged too");
      logged.forEach((n, i) => assert.equal(n, i, "every line in the log, in order"));
    });

    it("feeds stdin; stdin_once closes the container's stdin when the client's ends, and the session ends with the container", async () => {
      const pod = await runPod();
      const id = await startContainer(pod, "reader", {
        stdin: true,
        stdinOnce: true,
        command: ["sh", "-c", "while read l; do echo got:$l; done; echo eof"],
      });
      const r = await runSpdyRemoteCommand(await attachUrl(id, { stdin: true }), { stdin: true, stdout: true, stderr: true, input: "one\ntwo\n" });
      assert.equal(r.stdout, "got:one\ngot:two\neof\n");
      assert.equal(r.exitCode, 0, "Success status");
      await waitFor("the container to exit", async () => {
        const s = await t.client.runtime.containerStatus({ containerId: id });
        return s.status!.state === ContainerState.CONTAINER_EXITED ? true : undefined;
      });
    });

    it("keeps the container's stdin open across clients without stdin_once", async () => {
      const pod = await runPod();
      const id = await startContainer(pod, "shared-stdin", { stdin: true, command: ["sh", "-c", "while read l; do echo got:$l; done"] });
      for (const word of ["first", "second"]) {
        const { session, streams } = await openSpdyRemoteCommand(await attachUrl(id, { stdin: true }), { stdin: true, stdout: true, stderr: true });
        streams.stdin!.write(`${word}\n`);
        assert.match(await readUntil(streams.stdout!, (s) => s.includes(`got:${word}`)), new RegExp(`got:${word}`));
        streams.stdin!.end(); // detaches
        await session.connection.close();
      }
      const st = (await t.client.runtime.containerStatus({ containerId: id })).status!;
      assert.equal(st.state, ContainerState.CONTAINER_RUNNING);
    });

    it("attaches to a tty container with resize, and over WebSocket", async () => {
      const pod = await runPod();
      const id = await startContainer(pod, "tty", { stdin: true, tty: true, command: ["sh"] });
      const { session, streams } = await openSpdyRemoteCommand(await attachUrl(id, { stdin: true, tty: true }), { stdin: true, tty: true });
      streams.resize!.write(JSON.stringify({ Width: 99, Height: 33 }));
      await sleep(300);
      streams.stdin!.write("stty size\n");
      assert.match(await readUntil(streams.stdout!, (s) => /33 99/.test(s)), /33 99\r\n/);
      await session.connection.close();

      const ws = await runWebSocketRemoteCommand(await attachUrl(id, { stdin: true, tty: true }), {
        stdin: true,
        tty: true,
        input: "echo via-ws; exit\n",
        keepStdinOpen: true, // with a tty, the end of the client's stdin would detach it at once
      });
      assert.match(ws.stdout, /via-ws/);
      assert.equal(ws.exitCode, 0);
    });

    it("validates the request", async () => {
      const base = { containerId: sleeper, stdin: false, stdout: true, stderr: true, tty: false };
      assert.equal(await codeOfCall(t.client.runtime.attach({ ...base, stdout: false, stderr: false })), Code.INVALID_ARGUMENT);
      assert.equal(await codeOfCall(t.client.runtime.attach({ ...base, tty: true })), Code.INVALID_ARGUMENT);
      assert.equal(await codeOfCall(t.client.runtime.attach({ ...base, containerId: "nonexistent" })), Code.NOT_FOUND);
    });
  });

  describe("port-forward", () => {
    const HTTPD = (port: number) => ["sh", "-c", `mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p ${port} -h /www`];
    const GET = "GET /index.html HTTP/1.0\r\n\r\n";
    let web: { id: string; config: PodInit };

    before(async () => {
      web = await runPod();
      await startContainer(web, "httpd", { command: HTTPD(8080) });
    });

    async function pfUrl(podSandboxId: string, port: number[] = []) {
      return (await t.client.runtime.portForward({ podSandboxId, port })).url;
    }

    /** Retries until the server in the pod answers (httpd starts asynchronously). */
    async function getThrough(podSandboxId: string, port: number): Promise<string> {
      return waitFor("the pod's web server", async () => {
        const pf = await dialPortForward(await pfUrl(podSandboxId));
        try {
          const { data, error } = await pf.connect(port);
          const answer = await roundTrip(data, GET);
          return (await error) === "" && answer.includes("hello-from-pod") ? answer : undefined;
        } finally {
          await pf.close();
        }
      });
    }

    it("forwards to a server in the pod's network namespace (SPDY)", async () => {
      const answer = await getThrough(web.id, 8080);
      assert.match(answer, /^HTTP\/1\.[01] 200 OK/);
    });

    it("keeps connections apart: a closed port gets its error, the others keep working", async () => {
      await getThrough(web.id, 8080);
      const pf = await dialPortForward(await pfUrl(web.id));
      try {
        const first = await pf.connect(8080);
        const refused = await pf.connect(81);
        const second = await pf.connect(8080);
        const refusedData = readChannel(refused.data);
        assert.match(await refused.error, /^error forwarding port 81 to pod [0-9a-f]{64}, uid : .*Connection refused/);
        assert.equal(await refusedData, "");
        const [a, b] = await Promise.all([roundTrip(first.data, GET), roundTrip(second.data, GET)]);
        assert.match(a, /hello-from-pod/);
        assert.match(b, /hello-from-pod/);
        assert.equal(await first.error, "");
        assert.equal(await second.error, "");
      } finally {
        await pf.close();
      }
    });

    it("forwards over SPDY tunnelled in WebSocket and over WebSocket channels", async () => {
      await getThrough(web.id, 8080);
      const tunnel = await dialPortForward(await pfUrl(web.id), (u) => dialSpdyOverWebSocket(u));
      try {
        const { data, error } = await tunnel.connect(8080);
        assert.match(await roundTrip(data, GET), /hello-from-pod/);
        assert.equal(await error, "");
      } finally {
        await tunnel.close();
      }
      const channels = await dialPortForwardChannels(await pfUrl(web.id, [8080]), 1);
      const data = readBytes(channels.channel(0));
      const error = readBytes(channels.channel(1));
      channels.channel(0).write(GET);
      const answer = await data;
      const port8080 = Buffer.from([0x90, 0x1f]);
      assert.deepEqual(answer.subarray(0, 2), port8080, "the port prefix (8080, little-endian)");
      assert.match(answer.subarray(2).toString(), /hello-from-pod/);
      assert.deepEqual(await error, port8080, "nothing on the error channel but the port prefix");
    });

    it("forwards for host-network pods from the host's namespace", async () => {
      const port = 20000 + (process.pid % 20000);
      const host = await runPod({ hostname: "", linux: { securityContext: { namespaceOptions: { network: 2 } } } } as Partial<PodInit>);
      await startContainer(host, "httpd", { command: HTTPD(port) });
      assert.match(await getThrough(host.id, port), /hello-from-pod/);
      await t.client.runtime.stopPodSandbox({ podSandboxId: host.id });
    });

    it("reaps every forwarder, and kills them when the client goes away", async () => {
      await getThrough(web.id, 8080);
      await waitFor("finished forwarders to be reaped", () => (forwarderChildren().length === 0 ? true : undefined));
      const pf = await dialPortForward(await pfUrl(web.id));
      const open = await Promise.all([pf.connect(8080), pf.connect(8080)]);
      open.forEach((c) => c.data.write("GET /index.html HTTP/1.0\r\n")); // an unfinished request keeps them busy
      await waitFor("two forwarders", () => (forwarderChildren().length === 2 ? true : undefined));
      pf.session.connection.destroy();
      await waitFor("the forwarders to be killed", () => (forwarderChildren().length === 0 ? true : undefined));
    });

    it("validates the request: pod known and ready, ports in range", async () => {
      assert.equal(await codeOfCall(t.client.runtime.portForward({ podSandboxId: "" })), Code.INVALID_ARGUMENT);
      assert.equal(await codeOfCall(t.client.runtime.portForward({ podSandboxId: "nonexistent" })), Code.NOT_FOUND);
      assert.equal(await codeOfCall(t.client.runtime.portForward({ podSandboxId: web.id, port: [70000] })), Code.INVALID_ARGUMENT);
      const stopped = await runPod();
      await t.client.runtime.stopPodSandbox({ podSandboxId: stopped.id });
      assert.equal(await codeOfCall(t.client.runtime.portForward({ podSandboxId: stopped.id })), Code.FAILED_PRECONDITION);
    });
  });

  describe("real kubectl (client-go) through a proxying API server", { skip: KUBECTL ? false : "kubectl is not installed" }, () => {
    let kubeconfig: string;
    let api: Awaited<ReturnType<typeof startFakeApiServer>>;
    before(async () => {
      const pod = await runPod();
      const main = await startContainer(pod, "main", {
        command: ["sh", "-c", "mkdir -p /www && echo hello-kubectl > /www/index.html && httpd -p 8080 -h /www; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"],
      });
      const reader = await startContainer(pod, "reader", { stdin: true, stdinOnce: true, command: ["sh", "-c", "while read l; do echo got:$l; done; echo eof"] });
      api = await startFakeApiServer(t.client, { name: "web", namespace: "default", podSandboxId: pod.id, containers: { main, reader } });
      kubeconfig = join(t.harness.scratchDir, `${t.config.namespace}-kubeconfig`);
      writeFileSync(
        kubeconfig,
        `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${api.url}"}}]\nusers: [{name: u, user: {}}]\n` +
          `contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]\ncurrent-context: c\n`,
      );
    });
    after(() => api?.close());

    const kubectl = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
      runCommand(KUBECTL!, ["--kubeconfig", kubeconfig, ...args], opts);

    // kubectl 1.31+ speaks WebSocket (v5; SPDY tunnelled in WebSocket for port-forward) unless told otherwise.
    const transports: Array<[string, NodeJS.ProcessEnv]> = [
      ["default transport", {}],
      ["SPDY", { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false", KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }],
    ];
    for (const [name, env] of transports) {
      it(`exec, attach and port-forward work (${name})`, async () => {
        const firstUpgrade = api.upgrades.length;
        const exec = await kubectl(["exec", "web", "-c", "main", "--", "sh", "-c", "echo out; echo err >&2; exit 3"], { env });
        assert.equal(exec.stdout, "out\n");
        // client-go may log (klog, to kubectl's stderr) "Unknown stream id 1, discarding
        // message" when the session-up message kubelet's protocol sends on stdout arrives
        // before kubectl registered that stream: kubectl's own race, not the container's output.
        assert.match(withoutKlogLines(exec.stderr), /^err\n/);
        assert.equal(exec.code, 3, exec.stderr);
        const piped = await kubectl(["exec", "-i", "web", "-c", "main", "--", "cat"], { env, input: "piped\n" });
        assert.deepEqual([piped.stdout, piped.code], ["piped\n", 0]);
        const attached = await kubectl(["attach", "web", "-c", "main"], { env, timeoutMs: 1500 });
        assert.match(attached.stdout, /tick \d+\ntick \d+\n/);

        const port = await freePort();
        const pf = spawn(KUBECTL!, ["--kubeconfig", kubeconfig, "port-forward", "web", `${port}:8080`], { stdio: "ignore", env: { ...process.env, ...env } });
        try {
          const body = await waitFor("kubectl port-forward", () =>
            fetch(`http://127.0.0.1:${port}/index.html`).then(
              (r) => r.text(),
              () => undefined,
            ),
          );
          assert.equal(body, "hello-kubectl\n");
          assert.equal(await (await fetch(`http://127.0.0.1:${port}/index.html`)).text(), "hello-kubectl\n");
        } finally {
          pf.kill();
        }
        const used = api.upgrades.slice(firstUpgrade);
        if (env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS === "false") assert.ok(used.every((u) => / SPDY\/3\.1 /.test(u)), used.join("; "));
      });
    }

    it("attach -i to a stdin_once container: input in, EOF closes its stdin", async () => {
      const r = await kubectl(["attach", "-i", "web", "-c", "reader"], { input: "a\nb\n" });
      assert.match(r.stdout, /got:a\ngot:b\neof\n/);
      assert.equal(r.code, 0);
    });
  });

  describe("tokens", () => {
    it("are good once: a reused token gets 404 and nothing runs", async () => {
      const url = await execUrl(sleeper, ["sh", "-c", "echo ran >> /tmp/token-runs"]);
      await runSpdyRemoteCommand(url, {});
      await assert.rejects(dialSpdy(url, { protocols: SUPPORTED_STREAM_PROTOCOLS }), (e: unknown) => e instanceof SpdyUpgradeError && e.status === 404);
      const count = await runSpdyRemoteCommand(await execUrl(sleeper, ["cat", "/tmp/token-runs"]), {});
      assert.equal(count.stdout, "ran\n");
    });

    it("unknown tokens and paths get 404, the kind must match the URL", async () => {
      const url = new URL(await execUrl(sleeper, ["true"]));
      const wrongKind = `${url.origin}/attach/${url.pathname.split("/")[2]}`;
      await assert.rejects(dialSpdy(wrongKind, { protocols: SUPPORTED_STREAM_PROTOCOLS }), (e: unknown) => e instanceof SpdyUpgradeError && e.status === 404);
      await assert.rejects(dialSpdy(`${url.origin}/exec/nope`, { protocols: SUPPORTED_STREAM_PROTOCOLS }), (e: unknown) => e instanceof SpdyUpgradeError && e.status === 404);
      const plain = await fetch(`${url.origin}/other`);
      assert.equal(plain.status, 404);
    });

    it("expire after a minute", async (ctx) => {
      ctx.mock.timers.enable({ apis: ["Date"], now: Date.now() });
      const url = await execUrl(sleeper, ["true"]);
      ctx.mock.timers.tick(61_000);
      await assert.rejects(dialSpdy(url, { protocols: SUPPORTED_STREAM_PROTOCOLS }), (e: unknown) => e instanceof SpdyUpgradeError && e.status === 404);
    });
  });
});
