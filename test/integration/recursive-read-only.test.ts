// Recursive read-only mounts (Mount.recursive_read_only, KEP-3857): advertised per
// runtime handler in Status when the kernel has mount_setattr (5.12+) and the runtime's
// features list "rro"; honoured with runc's "rro" option; refused with INVALID_ARGUMENT
// (as containerd does) when the mount is not readonly, its propagation is not private, or
// the handler cannot do it. The expectation for this machine is worked out here from
// `runc features` and the kernel release, independently of crib's own detection; the
// submount test is skipped (and says why) where the machine cannot do rro.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { MountPropagation } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall, connectCri } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { containerConfig, containerdContainers, createContainer, exec, podConfig, runPod, startRunning, type Pod } from "./helpers/pod-helpers.js";

function machineSupportsRro(runc: string): { supported: boolean; why: string } {
  const [major, minor] = release().split(".").map((n) => Number.parseInt(n, 10)) as [number, number];
  const kernelOk = major > 5 || (major === 5 && minor >= 12);
  const opts = (JSON.parse(execFileSync(runc, ["features"], { encoding: "utf8" })) as { mountOptions?: string[] }).mountOptions ?? [];
  const runcOk = opts.includes("rro");
  const why = `kernel ${release()} ${kernelOk ? ">=" : "<"} 5.12, ${runc} features ${runcOk ? "lists" : "lacks"} "rro"`;
  return { supported: kernelOk && runcOk, why };
}

describe("recursive read-only mounts", () => {
  let t: TestCrib;
  let busybox: string;
  let volume: string;
  let noRroRunc: string;
  let machine: { supported: boolean; why: string };

  before(async () => {
    const h = (await import("../harness/env.js")).loadHarness();
    machine = machineSupportsRro(h.runc);
    // A runc that hides "rro" from its features: a handler using it must not claim rro.
    noRroRunc = join(h.scratchDir, "runc-no-rro");
    writeFileSync(
      noRroRunc,
      `#!/bin/sh\nif [ "$1" = features ]; then ${h.runc} features | grep -v '"rro"'; exit $?; fi\nexec ${h.runc} "$@"\n`,
    );
    chmodSync(noRroRunc, 0o755);
    t = await startTestCrib({
      restrictOOMScoreAdj: true,
      runtimes: {
        runc: { runtimeType: "io.containerd.runc.v2", options: {}, sandboxer: "podsandbox" },
        "no-rro": { runtimeType: "io.containerd.runc.v2", options: { BinaryName: noRroRunc }, sandboxer: "podsandbox" },
      },
    });
    busybox = t.harness.images.busybox;
    await t.client.image.pullImage({ image: { image: busybox } });
    // cri-tools' layout: a host dir with a tmpfs mounted below it.
    volume = join(t.harness.scratchDir, `${t.config.namespace}-volume`);
    mkdirSync(join(volume, "sub"), { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "crib-rro-test", join(volume, "sub")]);
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
    if (volume && existsSync(join(volume, "sub"))) execFileSync("umount", [join(volume, "sub")]);
  });

  const mount = (extra: { readonly?: boolean; recursiveReadOnly?: boolean; propagation?: MountPropagation }) => ({
    containerPath: "/mnt",
    hostPath: volume,
    readonly: true,
    propagation: MountPropagation.PROPAGATION_PRIVATE,
    ...extra,
  });
  const sleeper = (name: string, m: ReturnType<typeof mount>) => containerConfig(name, busybox, { command: ["sleep", "300"], mounts: [m] });

  it("Status advertises recursive_read_only_mounts per handler as the kernel and the runtime allow", async () => {
    const handlers = (await t.client.runtime.status({})).runtimeHandlers;
    const rro = Object.fromEntries(handlers.map((h) => [h.name, h.features?.recursiveReadOnlyMounts]));
    assert.deepEqual(rro, { "": machine.supported, runc: machine.supported, "no-rro": false }, machine.why);
  });

  it("Status answers like containerd's built-in CRI: same handlers' features, same runtime features", async (ctx) => {
    const cri = t.harness.criContainerd;
    if (!cri) {
      ctx.skip("harness started without --with-cri (make test passes it)");
      return;
    }
    const theirs = connectCri(cri.criAddress, 60_000);
    try {
      const pick = (r: Awaited<ReturnType<typeof theirs.runtime.status>>) => ({
        handlers: Object.fromEntries(
          r.runtimeHandlers.filter((h) => h.name === "" || h.name === "runc").map((h) => [h.name, { ...h.features, $typeName: undefined }]),
        ),
        supplementalGroupsPolicy: r.features?.supplementalGroupsPolicy,
      });
      assert.deepEqual(pick(await t.client.runtime.status({})), pick(await theirs.runtime.status({})));
    } finally {
      theirs.close();
    }
  });

  it("a submount of a recursive read-only mount is read-only inside the container", async (ctx) => {
    if (!machine.supported) {
      ctx.skip(`recursive read-only mounts unsupported here: ${machine.why}`);
      return;
    }
    const pod = await runPod(t);
    const rro = await startRunning(t, pod, sleeper("rro", mount({ recursiveReadOnly: true })));
    for (const path of ["/mnt/top", "/mnt/sub/file"]) {
      const r = await exec(t, rro, ["touch", path]);
      assert.notEqual(r.exitCode, 0, `${path} writable under rro`);
      assert.match(r.stderr, /Read-only file system/, path);
    }
    // The same mount readonly but not recursively: the submount stays writable (the
    // kubelet's default), which is what rro exists to close.
    const ro = await startRunning(t, pod, sleeper("ro", mount({})));
    assert.match((await exec(t, ro, ["touch", "/mnt/top"])).stderr, /Read-only file system/);
    const sub = await exec(t, ro, ["touch", "/mnt/sub/file"]);
    assert.equal(sub.exitCode, 0, sub.stderr);
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id });
  });

  it("refuses rro with INVALID_ARGUMENT for a writable mount, non-private propagation, or a handler without rro", async () => {
    const pod = await runPod(t);
    const noRroConfig = podConfig(t);
    const onNoRro: Pod = {
      id: (await t.client.runtime.runPodSandbox({ config: noRroConfig, runtimeHandler: "no-rro" })).podSandboxId,
      config: noRroConfig,
    };

    const cases: [string, Pod, ReturnType<typeof mount>, RegExp][] = [
      ["not readonly", pod, mount({ readonly: false, recursiveReadOnly: true }), /conflicts with RW mount/],
      ["host-to-container", pod, mount({ recursiveReadOnly: true, propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER }), machine.supported ? /needs private propagation/ : /does not support/],
      ["bidirectional", pod, mount({ recursiveReadOnly: true, propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL }), machine.supported ? /needs private propagation/ : /does not support/],
      ["handler without rro", onNoRro, mount({ recursiveReadOnly: true }), /does not support recursive read-only mounts/],
    ];
    if (!machine.supported) cases.push(["unsupported machine", pod, mount({ recursiveReadOnly: true }), /does not support recursive read-only mounts/]);
    for (const [what, p, m, message] of cases) {
      const e = await createContainer(t, p, sleeper(`bad-${what.replace(/\W+/g, "-")}`, m)).then(
        () => assert.fail(`${what}: created`),
        (err: { code: number; details: string }) => err,
      );
      assert.equal(e.code, Code.INVALID_ARGUMENT, `${what}: ${e.details}`);
      assert.match(e.details, message, what);
      assert.match(e.details, new RegExp(volume.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), `${what}: names the host path`);
    }
    assert.deepEqual((await t.client.runtime.listContainers({})).containers, [], "no container left");
    assert.deepEqual((await containerdContainers(t)).sort(), [pod.id, onNoRro.id].sort(), "only the pause containers");
    for (const id of [pod.id, onNoRro.id]) assert.equal(await codeOfCall(t.client.runtime.removePodSandbox({ podSandboxId: id })), Code.OK);
  });
});
