// Localhost seccomp profiles (a JSON file on the host, named by absolute path) at pod and
// container level, in the structured SecurityProfile form and in the deprecated
// "localhost/<path>" string form. The kubelet sends a pod-level profile to RunPodSandbox
// (containerd applies it to the pause container) and each container's own to
// CreateContainer. Asserted: what the processes really run under (/proc status, a chmod
// the profile blocks), and clear INVALID_ARGUMENT errors that leave nothing behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status as Code, type ServiceError } from "@grpc/grpc-js";
import { SecurityProfile_ProfileType as ProfileType } from "../../src/gen/runtime/v1/api_pb.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { containerConfig, containerdContainers, createContainer, exec, runPod, startRunning, type ContainerInit, type Pod } from "./helpers/pod-helpers.js";

/** cri-tools' block-chmod profile: everything allowed but chmod and fchmodat. */
const BLOCK_CHMOD = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["chmod", "fchmodat"], action: "SCMP_ACT_ERRNO" }] };

async function callError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error("call succeeded");
}

describe("Localhost seccomp profiles", () => {
  let t: TestCrib;
  let busybox: string;
  let profile: string;
  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    busybox = t.harness.images.busybox;
    await t.client.image.pullImage({ image: { image: busybox } });
    profile = join(t.harness.scratchDir, `${t.config.namespace}-block-chmod.json`);
    writeFileSync(profile, JSON.stringify(BLOCK_CHMOD));
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
  });

  const localhost = (path: string) => ({ profileType: ProfileType.Localhost, localhostRef: path });
  const sleeper = (name: string, sc: NonNullable<ContainerInit["linux"]>["securityContext"] = {}) =>
    containerConfig(name, busybox, { command: ["sh", "-c", "touch /tmp/f; sleep 300"], linux: { securityContext: sc } });

  async function pausePid(pod: Pod): Promise<number> {
    const res = await t.client.runtime.podSandboxStatus({ podSandboxId: pod.id, verbose: true });
    return (JSON.parse(res.info["info"]!) as { pid: number }).pid;
  }
  /** The seccomp mode of a process: 0 none, 2 filter. */
  const seccompMode = (pid: number) => /^Seccomp:\s+(\d)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];

  async function chmodIn(id: string) {
    return exec(t, id, ["chmod", "400", "/tmp/f"]);
  }

  async function removePod(pod: Pod) {
    await t.client.runtime.stopPodSandbox({ podSandboxId: pod.id });
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id });
  }

  it("a pod-level Localhost profile runs the pod, the pause container under it; a container's own profile blocks chmod", async () => {
    const pod = await runPod(t, { linux: { securityContext: { seccomp: localhost(profile) } } });
    const pid = await pausePid(pod);
    assert.equal(seccompMode(pid), "2", "pause process runs under a seccomp filter");
    const spec = JSON.parse(Buffer.from((await t.containerd.containers.get({ id: pod.id })).container!.spec!.value).toString()) as {
      linux: { seccomp?: { defaultAction: string; syscalls: { names: string[]; action: string }[] } };
    };
    assert.deepEqual(spec.linux.seccomp, BLOCK_CHMOD, "the pause container's spec carries the profile");

    const confined = await startRunning(t, pod, sleeper("confined", { seccomp: localhost(profile) }));
    const denied = await chmodIn(confined);
    assert.notEqual(denied.exitCode, 0);
    assert.match(denied.stderr, /Operation not permitted/);

    // Without a profile of its own the container is unconfined: chmod works.
    const free = await startRunning(t, pod, sleeper("unconfined", { seccomp: { profileType: ProfileType.Unconfined } }));
    const allowed = await chmodIn(free);
    assert.equal(allowed.exitCode, 0, allowed.stderr);
    assert.equal((await exec(t, free, ["stat", "-c", "%a", "/tmp/f"])).stdout.trim(), "400");
    await removePod(pod);
  });

  it("the deprecated seccomp_profile_path form \"localhost/<path>\" works at pod and container level", async () => {
    const pod = await runPod(t, { linux: { securityContext: { seccompProfilePath: `localhost/${profile}` } } });
    assert.equal(seccompMode(await pausePid(pod)), "2");
    const id = await startRunning(t, pod, sleeper("legacy", { seccompProfilePath: `localhost/${profile}` }));
    const denied = await chmodIn(id);
    assert.notEqual(denied.exitCode, 0);
    assert.match(denied.stderr, /Operation not permitted/);
    await removePod(pod);
  });

  it("a profile path that does not exist, or is relative, is INVALID_ARGUMENT naming it; nothing is left", async () => {
    const missing = join(t.harness.scratchDir, "no-such-profile.json");
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["missing (structured)", { seccomp: localhost(missing) }, new RegExp(`"${missing}".*no such file`)],
      ["missing (string form)", { seccompProfilePath: `localhost/${missing}` }, new RegExp(`"${missing}".*no such file`)],
      ["relative", { seccomp: localhost("profiles/block-chmod.json") }, /"profiles\/block-chmod.json" must be an absolute path/],
    ];
    for (const [what, securityContext, message] of cases) {
      const e = await callError(runPod(t, { linux: { securityContext } }));
      assert.equal(e.code, Code.INVALID_ARGUMENT, `${what}: ${e.message}`);
      assert.match(e.details, message, what);
    }
    assert.deepEqual((await t.client.runtime.listPodSandbox({})).items, [], "no pod left");
    assert.deepEqual(await containerdContainers(t), [], "no containerd container left");
    assert.deepEqual((await t.containerd.sandboxStore.list({ filters: [] })).list, [], "no sandbox store record left");

    // At container level, CreateContainer refuses it and the pod keeps working.
    const pod = await runPod(t);
    for (const [what, securityContext, message] of cases) {
      const e = await callError(createContainer(t, pod, sleeper(`bad-${what.replace(/\W+/g, "-")}`, securityContext)));
      assert.equal(e.code, Code.INVALID_ARGUMENT, `${what}: ${e.message}`);
      assert.match(e.details, message, what);
    }
    assert.deepEqual((await t.client.runtime.listContainers({})).containers, []);
    assert.deepEqual(await containerdContainers(t), [pod.id], "only the pause container");
    await removePod(pod);
  });
});
