// Idempotent teardown: the kubelet stops and removes pods, containers and images it only
// remembers (after a restart of crib or of the node, or on a retry), and api.proto says
// these calls "must not return an error if all relevant resources have already been
// reclaimed". Each of the five is called for ids crib never saw and for ids it already
// removed, against the real containerd, and must answer OK and leave nothing behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { status as Code } from "@grpc/grpc-js";
import { codeOfCall } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { containerConfig, containerdContainers, runPod, startRunning } from "./helpers/pod-helpers.js";

const NEVER_SEEN = "f".repeat(64);

describe("idempotent teardown", () => {
  let t: TestCrib;
  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
  });

  it("answers OK for ids crib has never seen, and makes nothing", async () => {
    const calls: [string, Promise<unknown>][] = [
      ["StopPodSandbox", t.client.runtime.stopPodSandbox({ podSandboxId: NEVER_SEEN })],
      ["RemovePodSandbox", t.client.runtime.removePodSandbox({ podSandboxId: NEVER_SEEN })],
      ["StopContainer", t.client.runtime.stopContainer({ containerId: NEVER_SEEN, timeout: 10n })],
      ["RemoveContainer", t.client.runtime.removeContainer({ containerId: NEVER_SEEN })],
      ["RemoveImage by id", t.client.image.removeImage({ image: { image: `sha256:${NEVER_SEEN}` } })],
      ["RemoveImage by name", t.client.image.removeImage({ image: { image: `${t.harness.registry.host}/no-such-image:latest` } })],
    ];
    for (const [rpc, call] of calls) assert.equal(await codeOfCall(call), Code.OK, rpc);
    assert.deepEqual(await containerdContainers(t), []);
    assert.deepEqual((await t.client.runtime.listPodSandbox({})).items, []);
    // The unknown ids stay unknown: status still says NOT_FOUND.
    assert.equal(await codeOfCall(t.client.runtime.podSandboxStatus({ podSandboxId: NEVER_SEEN })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.client.runtime.containerStatus({ containerId: NEVER_SEEN })), Code.NOT_FOUND);
  });

  it("answers OK again for a pod, container and image already removed", async () => {
    const image = t.harness.images.busyboxV2;
    await t.client.image.pullImage({ image: { image } });
    const pod = await runPod(t);
    const ctr = await startRunning(t, pod, containerConfig("sleeper", image, { command: ["sleep", "300"] }));

    await t.client.runtime.stopContainer({ containerId: ctr, timeout: 0n });
    await t.client.runtime.removeContainer({ containerId: ctr });
    assert.equal(await codeOfCall(t.client.runtime.containerStatus({ containerId: ctr })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.client.runtime.stopContainer({ containerId: ctr, timeout: 0n })), Code.OK, "StopContainer after remove");
    assert.equal(await codeOfCall(t.client.runtime.removeContainer({ containerId: ctr })), Code.OK, "RemoveContainer after remove");

    await t.client.runtime.stopPodSandbox({ podSandboxId: pod.id });
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id });
    assert.equal(await codeOfCall(t.client.runtime.podSandboxStatus({ podSandboxId: pod.id })), Code.NOT_FOUND);
    assert.equal(await codeOfCall(t.client.runtime.stopPodSandbox({ podSandboxId: pod.id })), Code.OK, "StopPodSandbox after remove");
    assert.equal(await codeOfCall(t.client.runtime.removePodSandbox({ podSandboxId: pod.id })), Code.OK, "RemovePodSandbox after remove");

    const imageId = (await t.client.image.imageStatus({ image: { image } })).image!.id;
    await t.client.image.removeImage({ image: { image } });
    assert.equal((await t.client.image.imageStatus({ image: { image } })).image, undefined);
    assert.equal(await codeOfCall(t.client.image.removeImage({ image: { image } })), Code.OK, "RemoveImage by name after remove");
    assert.equal(await codeOfCall(t.client.image.removeImage({ image: { image: imageId } })), Code.OK, "RemoveImage by id after remove");

    // Nothing came back: no containerd container, no image record for it.
    assert.deepEqual(await containerdContainers(t), []);
    const names = (await t.containerd.images.list({ filters: [] })).images.map((i) => i.name);
    assert.ok(!names.some((n) => n.includes("busybox-v2") || n === imageId), `image records left: ${names.join(", ")}`);
  });
});
