// The scripted scenario docs/mapping.md is generated from: every CRI RPC crib serves, in the
// cases that change which containerd calls it makes (host network or not, tty and stdin,
// pulls with credentials, failures that roll back). Each step writes a note into the trace
// ("RPC: case") right before the one RPC it documents; the renderer takes the first line of
// that RPC after the note. Steps run one after another so the file's order is the script's.
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ContainerState, NamespaceMode, type ContainerConfigSchema, type PodSandboxConfigSchema } from "../../src/gen/runtime/v1/api_pb.js";
import type { TestCrib } from "../integration/helpers/start-crib.js";
import { openSpdyRemoteCommand, runSpdyRemoteCommand, dialPortForward } from "../client/streaming-client.js";

type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;
type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when a streaming connection closed (at most 10 s, then it is dropped). */
function closed(conn: { once(ev: "close", f: () => void): unknown; destroy(): void }): Promise<void> {
  return new Promise<void>((resolve) => {
    conn.once("close", () => resolve());
    setTimeout(() => {
      conn.destroy();
      resolve();
    }, 10_000).unref();
  });
}

export async function runMappingScenario(t: TestCrib): Promise<void> {
  const recorder = t.crib.deps.containerd.recorder;
  if (!recorder) throw new Error("the mapping scenario needs crib started with a trace file");
  const h = t.harness;
  const logRoot = join(h.scratchDir, `${t.config.namespace}-logs`);
  /** Documents one RPC: its note, then the call. Expected failures are part of the script. */
  const step = async <T>(rpc: string, what: string, fn: () => Promise<T>, expectFailure = false): Promise<T | undefined> => {
    recorder.note(`${rpc}: ${what}`);
    try {
      return await fn();
    } catch (e) {
      if (!expectFailure) throw new Error(`mapping scenario: ${rpc} (${what}) failed: ${(e as Error).message}`, { cause: e });
      return undefined;
    } finally {
      await recorder.settled(); // the RPC's line (with calls it left running) is written before the next note
    }
  };
  const rt = t.client.runtime;
  const img = t.client.image;
  let seq = 0;
  const podConfig = (extra: Partial<PodInit> = {}): PodInit => {
    seq++;
    const logDirectory = join(logRoot, `pod-${seq}`);
    mkdirSync(logDirectory, { recursive: true });
    return {
      metadata: { name: `pod-${seq}`, uid: `uid-${seq}`, namespace: "default", attempt: 0 },
      hostname: `pod-${seq}`,
      logDirectory,
      linux: { cgroupParent: `/crib-mapping/pod-${seq}` },
      ...extra,
    } as PodInit;
  };
  const containerConfig = (name: string, extra: Partial<ContainerInit> = {}): ContainerInit => ({
    metadata: { name, attempt: 0 },
    image: { image: h.images.busybox },
    logPath: `${name}.log`,
    command: ["sleep", "3600"],
    ...extra,
  }) as ContainerInit;

  // --- runtime and images ---
  await step("Version", "", () => rt.version({}));
  await step("Status", "", () => rt.status({}));
  await step("RuntimeConfig", "", () => rt.runtimeConfig({}));
  await step("UpdateRuntimeConfig", "pod CIDR handed over", () => rt.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: "10.99.0.0/24" } } }));
  await step("PullImage", "an image not present yet", () => img.pullImage({ image: { image: h.images.busybox } }));
  await step("PullImage", "an image already present", () => img.pullImage({ image: { image: h.images.busybox } }));
  await step("ImageStatus", "", () => img.imageStatus({ image: { image: h.images.busybox } }));
  await step("ListImages", "", () => img.listImages({}));
  await step("ImageFsInfo", "", () => img.imageFsInfo({}));
  await img.pullImage({ image: { image: h.images.busyboxV2 } });
  await step("RemoveImage", "an image under one name", () => img.removeImage({ image: { image: h.images.busyboxV2 } }));
  await step("PullImage", "an image that does not exist (NOT_FOUND)", () => img.pullImage({ image: { image: `${h.registry.host}/no-such-image:1` } }), true);

  // --- pods ---
  const events = new AbortController();
  const eventStream = (async () => {
    recorder.note("GetContainerEvents: a subscriber that leaves");
    try {
      for await (const _ of rt.getContainerEvents({}, { timeoutMs: 0, signal: events.signal })) void _;
    } catch {
      // cancelled at the end of the scenario
    }
  })();
  const podCfg = podConfig();
  const pod = (await step("RunPodSandbox", "pod network (CNI)", () => rt.runPodSandbox({ config: podCfg })))!.podSandboxId;
  const hostCfg = podConfig({ hostname: "", linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE, pid: NamespaceMode.NODE, ipc: NamespaceMode.NODE } } } });
  const hostPod = (await step("RunPodSandbox", "host network (no CNI)", () => rt.runPodSandbox({ config: hostCfg })))!.podSandboxId;
  await step(
    "RunPodSandbox",
    "the pod task fails to start (an unknown sysctl): every step rolled back",
    () => rt.runPodSandbox({ config: podConfig({ linux: { sysctls: { "net.crib.no_such_sysctl": "1" } } }) }),
    true,
  );
  await step("PodSandboxStatus", "", () => rt.podSandboxStatus({ podSandboxId: pod }));
  await step("PodSandboxStatus", "verbose", () => rt.podSandboxStatus({ podSandboxId: pod, verbose: true }));
  await step("ListPodSandbox", "", () => rt.listPodSandbox({}));

  // --- containers ---
  const c1 = (await step("CreateContainer", "", () => rt.createContainer({ podSandboxId: pod, config: containerConfig("sleeper"), sandboxConfig: podCfg })))!.containerId;
  await step("StartContainer", "", () => rt.startContainer({ containerId: c1 }));
  const ttyCfg = containerConfig("shell", { command: ["sh"], tty: true, stdin: true });
  const c2 = (await step("CreateContainer", "tty and stdin", () => rt.createContainer({ podSandboxId: pod, config: ttyCfg, sandboxConfig: podCfg })))!.containerId;
  await step("StartContainer", "tty and stdin", () => rt.startContainer({ containerId: c2 }));
  const bad = (await rt.createContainer({ podSandboxId: pod, config: containerConfig("bad", { command: ["/no/such/binary"] }), sandboxConfig: podCfg })).containerId;
  await step("StartContainer", "the command does not exist: the task is deleted again", () => rt.startContainer({ containerId: bad }), true);
  await step("ContainerStatus", "", () => rt.containerStatus({ containerId: c1 }));
  await step("ListContainers", "", () => rt.listContainers({}));
  await step("UpdateContainerResources", "a running container", () =>
    rt.updateContainerResources({ containerId: c1, linux: { cpuShares: 512n, memoryLimitInBytes: 256n << 20n } }),
  );
  await step("ReopenContainerLog", "", () => rt.reopenContainerLog({ containerId: c1 }));
  await step("ExecSync", "", () => rt.execSync({ containerId: c1, cmd: ["echo", "hi"], timeout: 10n }));
  await step("ExecSync", "timed out: the process is killed", () => rt.execSync({ containerId: c1, cmd: ["sleep", "30"], timeout: 1n }), true);

  // --- streaming: the RPC hands out a URL; the session's calls are "(exec session)" / "(attach session)" lines ---
  const execRes = await step("Exec", "stdout and stderr", () => rt.exec({ containerId: c1, cmd: ["sh", "-c", "echo out; echo err >&2"], stdout: true, stderr: true }));
  await runSpdyRemoteCommand(execRes!.url, { stdout: true, stderr: true });
  await sleep(300);
  const ttyExec = await step("Exec", "tty and stdin", () => rt.exec({ containerId: c1, cmd: ["cat"], stdin: true, stdout: true, tty: true }));
  {
    // stdin ends well after the process started, so Tasks/CloseIO never races Tasks/Start in the doc.
    const { session, streams } = await openSpdyRemoteCommand(ttyExec!.url, { stdin: true, stdout: true, tty: true });
    streams.stdin?.write("line\n");
    await sleep(500);
    streams.stdin?.end();
    await closed(session.connection);
  }
  await sleep(300);
  const att = await step("Attach", "tty and stdin", () => rt.attach({ containerId: c2, stdin: true, stdout: true, tty: true }));
  const { session, streams } = await openSpdyRemoteCommand(att!.url, { stdin: true, stdout: true, tty: true });
  await sleep(500);
  streams.stdin?.write("exit\n"); // the container's shell exits
  await closed(session.connection);
  // The container's exit is handled before the stats below, which then see one running container.
  for (let i = 0; i < 100 && (await rt.containerStatus({ containerId: c2 })).status?.state !== ContainerState.CONTAINER_EXITED; i++) await sleep(100);
  await sleep(300);
  const pf = await step("PortForward", "", () => rt.portForward({ podSandboxId: pod, port: [8080] }));
  const fwd = await dialPortForward(pf!.url);
  await fwd.close();

  // --- stats ---
  await step("ContainerStats", "", () => rt.containerStats({ containerId: c1 }));
  await step("ListContainerStats", "one pod's containers", () => rt.listContainerStats({ filter: { podSandboxId: pod } }));
  await step("PodSandboxStats", "", () => rt.podSandboxStats({ podSandboxId: pod }));
  await step("ListPodSandboxStats", "", () => rt.listPodSandboxStats({}));
  await step("ListMetricDescriptors", "", () => rt.listMetricDescriptors({}));
  await step("ListPodSandboxMetrics", "", () => rt.listPodSandboxMetrics({}));
  // A real checkpoint depends on CRIU being installed on the host, which would make this doc differ between hosts.
  await step("CheckpointContainer", "an unknown container (NOT_FOUND)", () => rt.checkpointContainer({ containerId: "no-such-container", location: join(logRoot, "checkpoint.tar") }), true);

  // Pulled late: it is busybox under another name, which would otherwise be the name containers are created with.
  const { username, password } = h.authRegistry;
  await step("PullImage", "with credentials (the registry auth callback stream)", () =>
    img.pullImage({ image: { image: h.images.private }, auth: { username, password, serverAddress: h.authRegistry.host } }),
  );

  // --- teardown ---
  await step("StopContainer", "exits on SIGTERM", () => rt.stopContainer({ containerId: c1, timeout: 10n }));
  await sleep(500);
  await step("RemoveContainer", "stopped", () => rt.removeContainer({ containerId: c1 }));
  await step("RemoveContainer", "exited on its own", () => rt.removeContainer({ containerId: c2 }));
  await step("StopPodSandbox", "pod network", () => rt.stopPodSandbox({ podSandboxId: pod }));
  await step("RemovePodSandbox", "stopped", () => rt.removePodSandbox({ podSandboxId: pod }));
  await step("RemovePodSandbox", "running, host network (stopped first)", () => rt.removePodSandbox({ podSandboxId: hostPod }));
  await step("ContainerStatus", "an unknown container (NOT_FOUND)", () => rt.containerStatus({ containerId: "no-such-container" }), true);
  await sleep(500);
  events.abort();
  await eventStream;
  await sleep(2000); // background lines (task exits) go quiet before the trace is closed
}
