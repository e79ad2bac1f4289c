// Small pod/container helpers for integration test files that run a few containers each
// (pods with a log directory under the harness scratch dir, busybox containers).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ContainerState, type ContainerConfigSchema, type PodSandboxConfigSchema } from "../../../src/gen/runtime/v1/api_pb.js";
import type { TestCrib } from "./start-crib.js";

export type ContainerInit = MessageInitShape<typeof ContainerConfigSchema>;
export type PodInit = MessageInitShape<typeof PodSandboxConfigSchema>;
export interface Pod {
  id: string;
  config: PodInit;
}

let seq = 0;

/** A pod config with unique metadata, its own cgroup parent and log directory. */
export function podConfig(t: TestCrib, extra: Partial<PodInit> = {}): PodInit {
  seq++;
  const name = `pod-${seq}-${process.pid}`;
  const logDirectory = join(t.harness.scratchDir, `${t.config.namespace}-logs`, name);
  mkdirSync(logDirectory, { recursive: true });
  return {
    metadata: { name, uid: `uid-${name}`, namespace: "default", attempt: 0 },
    hostname: `pod-${seq}`,
    logDirectory,
    linux: { cgroupParent: `/${t.config.namespace}/${name}` },
    ...extra,
  } as PodInit;
}

export async function runPod(t: TestCrib, extra: Partial<PodInit> = {}): Promise<Pod> {
  const config = podConfig(t, extra);
  const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
  return { id: podSandboxId, config };
}

export function containerConfig(name: string, image: string, extra: Partial<ContainerInit> = {}): ContainerInit {
  return { metadata: { name, attempt: 0 }, image: { image }, logPath: `${name}.log`, ...extra } as ContainerInit;
}

export async function createContainer(t: TestCrib, pod: Pod, config: ContainerInit): Promise<string> {
  const { containerId } = await t.client.runtime.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config });
  return containerId;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Creates and starts a long-running container and waits until it is RUNNING. */
export async function startRunning(t: TestCrib, pod: Pod, config: ContainerInit): Promise<string> {
  const id = await createContainer(t, pod, config);
  await t.client.runtime.startContainer({ containerId: id });
  await waitFor(`container ${id} running`, async () => {
    const s = (await t.client.runtime.containerStatus({ containerId: id })).status!;
    return s.state === ContainerState.CONTAINER_RUNNING ? s : undefined;
  });
  return id;
}

/** ExecSync in a running container: exit code and both outputs as text. */
export async function exec(t: TestCrib, id: string, cmd: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await t.client.runtime.execSync({ containerId: id, cmd, timeout: 20n });
  return { exitCode: r.exitCode, stdout: Buffer.from(r.stdout).toString("utf8"), stderr: Buffer.from(r.stderr).toString("utf8") };
}

/** containerd containers left in the test's namespace. */
export async function containerdContainers(t: TestCrib): Promise<string[]> {
  return (await t.containerd.containers.list({ filters: [] })).containers.map((c) => c.id);
}
