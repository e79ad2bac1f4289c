// Proves the harness every other integration test stands on: containerd without CRI,
// registries with the fixture images, credentials, CNI config, and images that really run.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadHarness } from "../harness/env.js";
import { ctr } from "../harness/ctr.js";
import { basicAuth, fetchManifest, pushImage } from "../harness/registry-client.js";
import { run } from "../harness/proc.js";
import { connectCri } from "../client/cri-client.js";

const h = loadHarness();

describe("containerd (crib's backend)", () => {
  it("answers with a 2.x server version", async () => {
    const out = await ctr(h.containerd, ["version"]);
    assert.match(out, /Server:\s*\n\s*Version:\s*2\.\d+\.\d+/);
    assert.match(h.containerd.version, /^2\.\d+\.\d+$/);
  });

  it("has no CRI plugin but keeps transfer and the sandbox store", async () => {
    const out = await ctr(h.containerd, ["plugins", "ls"]);
    const rows = out.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/));
    const ids = rows.map(([type, id]) => `${type}.${id}`);
    for (const id of ids) assert.doesNotMatch(id, /\.cri\b|cri\.v1|podsandbox/, `CRI plugin ${id} is loaded`);
    const ok = new Set(rows.filter((r) => r.at(-1) === "ok").map(([type, id]) => `${type}.${id}`));
    for (const want of ["io.containerd.grpc.v1.transfer", "io.containerd.transfer.v1.local", "io.containerd.grpc.v1.sandboxes"]) {
      assert.ok(ok.has(want), `${want} is not ok`);
    }
  });
});

describe("registries", () => {
  it("serves the fixture repositories in its catalog", async () => {
    const res = await fetch(`${h.registry.url}/v2/_catalog`);
    assert.equal(res.status, 200);
    const { repositories } = (await res.json()) as { repositories: string[] };
    for (const repo of ["busybox", "busybox-user", "busybox-v2", "moving", "moving-next", "multi", "pause"]) {
      assert.ok(repositories.includes(repo), `catalog lacks ${repo}: ${repositories.join(",")}`);
    }
  });

  it("auth registry refuses anonymous access and accepts the credentials", async () => {
    const anon = await fetch(`${h.authRegistry.url}/v2/_catalog`);
    await anon.arrayBuffer();
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get("www-authenticate") ?? "", /^Basic /);
    const wrong = await fetch(`${h.authRegistry.url}/v2/`, {
      headers: { Authorization: basicAuth({ username: h.authRegistry.username, password: "wrong" }) },
    });
    await wrong.arrayBuffer();
    assert.equal(wrong.status, 401);
    const res = await fetch(`${h.authRegistry.url}/v2/_catalog`, { headers: { Authorization: basicAuth(h.authRegistry) } });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { repositories: string[] }).repositories, ["private"]);
  });

  it("every fixture reference resolves to the digest harness.json gives", async () => {
    for (const [ref, want] of Object.entries(h.digests)) {
      const creds = ref === h.images.private ? h.authRegistry : undefined;
      const got = await fetchManifest(ref, creds);
      assert.equal(got.digest, want.manifest, ref);
    }
    assert.ok(h.digests[h.images.private], "private image digest missing");
  });
});

async function skopeoConfig(ref: string): Promise<{ architecture: string; os: string; config: Record<string, unknown> }> {
  const { stdout } = await run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${ref}`]);
  return JSON.parse(stdout);
}

describe("fixture images", () => {
  it("busybox: linux/amd64, Cmd [sh], no Entrypoint, under every tag", async () => {
    const { stdout } = await run("skopeo", ["inspect", "--tls-verify=false", `docker://${h.images.busybox}`]);
    const summary = JSON.parse(stdout) as { Architecture: string; Os: string; Layers: string[] };
    assert.equal(summary.Architecture, "amd64");
    assert.equal(summary.Os, "linux");
    assert.equal(summary.Layers.length, 1);
    const cfg = await skopeoConfig(h.images.busybox);
    assert.deepEqual(cfg.config.Cmd, ["sh"]);
    assert.equal(cfg.config.Entrypoint, undefined);
    const busyboxDigest = h.digests[h.images.busybox]!.manifest;
    for (const tag of h.images.busyboxTags) assert.equal(h.digests[tag]?.manifest, busyboxDigest, tag);
  });

  it("busybox-user: user crib, workdir, entrypoint and cmd", async () => {
    const { config } = await skopeoConfig(h.images.busyboxUser);
    assert.equal(config.User, "1234:1234");
    assert.equal(config.WorkingDir, "/home/crib");
    assert.deepEqual(config.Entrypoint, ["/bin/sh", "-c"]);
    assert.deepEqual(config.Cmd, ["id"]);
    assert.ok((config.Env as string[]).includes("CRIB_FIXTURE=busybox-user"));
  });

  it("pause: /pause entrypoint", async () => {
    const { config } = await skopeoConfig(h.images.pause);
    assert.deepEqual(config.Entrypoint, ["/pause"]);
  });

  it("multi is an OCI index with linux/amd64 and linux/arm64", async () => {
    const m = await fetchManifest(h.images.multi);
    assert.equal(m.mediaType, "application/vnd.oci.image.index.v1+json");
    const manifests = m.body.manifests as Array<{ digest: string; platform: { architecture: string; os: string } }>;
    assert.equal(manifests.length, 2);
    assert.deepEqual(manifests.map((d) => `${d.platform.os}/${d.platform.architecture}`).sort(), ["linux/amd64", "linux/arm64"]);
    const amd64 = manifests.find((d) => d.platform.architecture === "amd64")!;
    assert.equal(amd64.digest, h.digests[h.images.busybox]!.manifest);
  });

  it("pushImage moves a tag to other content", async () => {
    const tag = `${h.images.moving.replace(/:[^:/]+$/, "")}:harness-test`;
    await pushImage(h.images.movingV1, tag);
    assert.equal((await fetchManifest(tag)).digest, h.digests[h.images.movingV1]!.manifest);
    await pushImage(h.images.movingNext, tag);
    assert.equal((await fetchManifest(tag)).digest, h.digests[h.images.movingNext]!.manifest);
    assert.notEqual(h.digests[h.images.movingV1]!.manifest, h.digests[h.images.movingNext]!.manifest);
  });
});

describe("containers run on the harness containerd with bookworm runc", () => {
  // A fixed name: runc keeps one folder per namespace under /run/containerd/runc.
  const ns = "crib-harness-test";
  const pull = (ref: string) => ctr(h.containerd, ["images", "pull", "--plain-http", "--hosts-dir", h.hostsDir, ref], { namespace: ns });

  it("busybox (dynamic, with its libs) runs a command", async () => {
    await pull(h.images.busybox);
    const out = await ctr(h.containerd, ["run", "--rm", h.images.busybox, "echo-1", "/bin/sh", "-c", "echo hi; cat /etc/crib-fixture"], { namespace: ns });
    assert.equal(out.trim(), "hi\nv1");
  });

  it("busybox-user runs as crib in /home/crib", async () => {
    await pull(h.images.busyboxUser);
    const out = await ctr(h.containerd, ["run", "--rm", h.images.busyboxUser, "user-1"], { namespace: ns });
    assert.match(out, /^uid=1234\(crib\) gid=1234\(crib\)/);
  });

  it("pause exits on SIGTERM although it is PID 1", async () => {
    await pull(h.images.pause);
    await ctr(h.containerd, ["run", "-d", h.images.pause, "pause-1"], { namespace: ns });
    await ctr(h.containerd, ["tasks", "kill", "--signal", "SIGTERM", "pause-1"], { namespace: ns });
    let status = "";
    for (let i = 0; i < 100 && status !== "STOPPED"; i++) {
      const out = await ctr(h.containerd, ["tasks", "ls"], { namespace: ns });
      status = /pause-1\s+\d+\s+(\w+)/.exec(out)?.[1] ?? "";
      if (status !== "STOPPED") await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, "STOPPED");
    await ctr(h.containerd, ["tasks", "delete", "pause-1"], { namespace: ns });
    await ctr(h.containerd, ["containers", "delete", "pause-1"], { namespace: ns });
  });
});

describe("CNI config", () => {
  const netns = join(h.scratchDir, `harness-netns-${randomBytes(3).toString("hex")}`);
  after(async () => {
    await run("umount", [netns]).catch(() => {});
  });

  it("the bridge plugin with host-local hands out an address of the subnet", async () => {
    const list = JSON.parse(readFileSync(h.cni.confFile, "utf8")) as {
      cniVersion: string;
      name: string;
      plugins: Array<Record<string, unknown>>;
    };
    assert.deepEqual(list.plugins.map((p) => p.type), ["bridge", "portmap"]);
    writeFileSync(netns, "");
    await run("unshare", [`--net=${netns}`, "true"]);
    const conf = JSON.stringify({ ...list.plugins[0], cniVersion: list.cniVersion, name: list.name });
    const env = {
      ...process.env,
      CNI_CONTAINERID: "harness-test",
      CNI_NETNS: netns,
      CNI_IFNAME: "eth0",
      CNI_PATH: h.cni.binDir,
    };
    const { stdout } = await run(join(h.cni.binDir, "bridge"), [], { env: { ...env, CNI_COMMAND: "ADD" }, input: conf });
    const result = JSON.parse(stdout) as { ips: Array<{ address: string; gateway: string }> };
    const prefix = h.cni.subnet.split(".").slice(0, 3).join(".") + ".";
    assert.ok(result.ips[0]!.address.startsWith(prefix), result.ips[0]!.address);
    assert.equal(result.ips[0]!.gateway, h.cni.gateway);
    await run(join(h.cni.binDir, "bridge"), [], { env: { ...env, CNI_COMMAND: "DEL" }, input: conf });
  });
});

describe("CRI containerd (--with-cri)", { skip: h.criContainerd ? false : "harness started without --with-cri" }, () => {
  it("has the CRI plugin loaded and pins our pause image", async () => {
    const cd = h.criContainerd!;
    const out = await ctr(cd, ["plugins", "ls"]);
    assert.match(out, /io\.containerd\.grpc\.v1\s+cri\s+-\s+ok/);
    assert.equal(cd.sandboxImage, h.images.pause);
    assert.equal(cd.criAddress, cd.address);
  });

  it("runs a pod (our pause, CNI bridge) and a busybox container in it", async () => {
    const cri = connectCri(h.criContainerd!.criAddress, 60_000);
    try {
      const podConfig = {
        metadata: { name: "harness-pod", uid: randomBytes(8).toString("hex"), namespace: "default", attempt: 0 },
        logDirectory: join(h.scratchDir, "cri-pod-logs"),
        linux: {},
      };
      const { podSandboxId } = await cri.runtime.runPodSandbox({ config: podConfig });
      const pod = await cri.runtime.podSandboxStatus({ podSandboxId });
      const prefix = h.cni.subnet.split(".").slice(0, 3).join(".") + ".";
      assert.ok(pod.status?.network?.ip.startsWith(prefix), `pod IP ${pod.status?.network?.ip}`);
      await cri.image.pullImage({ image: { image: h.images.busybox } });
      const { containerId } = await cri.runtime.createContainer({
        podSandboxId,
        sandboxConfig: podConfig,
        config: { metadata: { name: "c", attempt: 0 }, image: { image: h.images.busybox }, command: ["sleep", "60"], logPath: "c.log" },
      });
      await cri.runtime.startContainer({ containerId });
      const res = await cri.runtime.execSync({ containerId, cmd: ["cat", "/etc/crib-fixture"], timeout: 10n });
      assert.equal(Buffer.from(res.stdout).toString(), "v1\n");
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
    } finally {
      cri.close();
    }
  });
});
