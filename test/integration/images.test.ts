// The CRI ImageService end to end: crib in-process on the harness's containerd (its own
// namespace) pulling from the harness registries through containerd's Transfer service.
// What a kubelet or crictl sees is asserted, and after failures that nothing is left in
// containerd (leases, content, snapshots, image names).
import { majorVersion } from "../../src/containerd/capabilities.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { codeOfCall } from "../client/cri-client.js";
import { ctr } from "../harness/ctr.js";
import { loadHarness, type HarnessInfo } from "../harness/env.js";
import { fetchManifest, pushImage } from "../harness/registry-client.js";
import { pushRandomImage } from "../harness/random-image.js";
import type { Containerd } from "../../src/containerd/client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { startStallingProxy, type StallingProxy } from "./helpers/stalling-proxy.js";

const TRANSFER = "transfer.v1.Transfer/Transfer";

async function leases(cd: Containerd): Promise<string[]> {
  return (await cd.leases.list({ filters: [] })).leases.map((l) => l.id);
}

async function contentDigests(cd: Containerd): Promise<string[]> {
  const out: string[] = [];
  for await (const r of cd.content.list({ filters: [] })) for (const i of r.info) out.push(i.digest);
  return out;
}

async function snapshotKeys(cd: Containerd, snapshotter = "overlayfs"): Promise<string[]> {
  const out: string[] = [];
  for await (const r of cd.snapshots.list({ snapshotter, filters: [] })) for (const i of r.info) out.push(i.name);
  return out;
}

async function imageNames(cd: Containerd): Promise<string[]> {
  return (await cd.images.list({ filters: [] })).images.map((i) => i.name).sort();
}

/** containerd collects garbage in the background after a delete; give it a moment. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Manifest bytes' length and the blobs it names, for the size containerd's CRI reports. */
async function manifestSize(ref: string): Promise<number> {
  const m = await fetchManifest(ref);
  const body = m.body as { config: { size: number }; layers: Array<{ size: number }> };
  return (await manifestBytes(ref)) + body.config.size + body.layers.reduce((n, l) => n + l.size, 0);
}

async function manifestBytes(ref: string): Promise<number> {
  const slash = ref.indexOf("/");
  const host = ref.slice(0, slash);
  const [repo, tag] = ref.slice(slash + 1).split(":");
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  return (await res.arrayBuffer()).byteLength;
}

const nameOf = (ref: string) => ref.replace(/:[^:/]+$/, "");

/** The image id the harness expects for a fixture reference. */
function configDigest(h: HarnessInfo, ref: string): string {
  const id = h.digests[ref]?.config;
  assert.ok(id, `the harness has no config digest for ${ref}`);
  return id;
}

describe("ImageService", () => {
  let t: TestCrib;
  let cd: Containerd;
  before(async () => {
    t = await startTestCrib();
    cd = t.containerd;
  });
  after(async () => {
    await t?.stop();
  });

  it("pulls by tag: image_ref is the config digest, three containerd names, labelled, unpacked", async () => {
    const h = t.harness;
    const ref = h.images.busybox;
    const want = h.digests[ref]!;
    const res = await t.client.image.pullImage({ image: { image: ref } });
    assert.equal(res.imageRef, want.config);

    const repoDigest = `${nameOf(ref)}@${want.manifest}`;
    const images = (await cd.images.list({ filters: [] })).images;
    assert.deepEqual(images.map((i) => i.name).sort(), [want.config, ref, repoDigest].sort());
    for (const i of images) {
      assert.equal(i.target?.digest, want.manifest, i.name);
      assert.equal(i.labels["io.cri-containerd.image"], "managed", i.name);
      assert.equal(i.labels["io.cri-containerd.pinned"], undefined, i.name);
    }

    const st = await t.client.image.imageStatus({ image: { image: ref } });
    assert.ok(st.image);
    assert.equal(st.image.id, want.config);
    assert.deepEqual(st.image.repoTags, [ref]);
    assert.deepEqual(st.image.repoDigests, [repoDigest]);
    assert.equal(st.image.size, BigInt(await manifestSize(ref)));
    assert.equal(st.image.pinned, false);
    assert.equal(st.image.uid, undefined);
    assert.equal(st.image.username, "");
    assert.deepEqual(await leases(cd), []);
  });

  it("a second tag of the same image joins it; by digest and by tag@digest add no tag", async () => {
    const h = t.harness;
    const [latest, v10, v11] = h.images.busyboxTags as [string, string, string];
    const want = h.digests[latest]!;
    assert.equal((await t.client.image.pullImage({ image: { image: v10 } })).imageRef, want.config);
    const byDigest = `${nameOf(latest)}@${want.manifest}`;
    assert.equal((await t.client.image.pullImage({ image: { image: byDigest } })).imageRef, want.config);
    assert.equal((await t.client.image.pullImage({ image: { image: `${v11}@${want.manifest}` } })).imageRef, want.config);
    const st = await t.client.image.imageStatus({ image: { image: want.config } });
    assert.deepEqual(st.image?.repoTags, [latest, v10].sort());
    assert.deepEqual(st.image?.repoDigests, [byDigest]);
    // Only one CRI image for all of them.
    const list = (await t.client.image.listImages({})).images.filter((i) => i.id === want.config);
    assert.equal(list.length, 1);
  });

  it("pulls a multi-platform index: the amd64 manifest is used and unpacked, arm64 content is not fetched", async () => {
    const h = t.harness;
    const ref = h.images.multi;
    const index = await fetchManifest(ref);
    const manifests = (index.body as { manifests: Array<{ digest: string; platform: { architecture: string } }> }).manifests;
    const amd64 = await fetchManifest(`${nameOf(ref)}@${manifests.find((m) => m.platform.architecture === "amd64")!.digest}`);
    const arm64 = await fetchManifest(`${nameOf(ref)}@${manifests.find((m) => m.platform.architecture === "arm64")!.digest}`);
    const configOf = (m: typeof amd64) => (m.body as { config: { digest: string } }).config.digest;

    const res = await t.client.image.pullImage({ image: { image: ref } });
    assert.equal(res.imageRef, configOf(amd64));
    const st = await t.client.image.imageStatus({ image: { image: ref }, verbose: true });
    // The fixture's amd64 manifest is busybox's own, so the image also carries busybox's names.
    assert.ok(st.image?.repoDigests.includes(`${nameOf(ref)}@${h.digests[ref]!.manifest}`), JSON.stringify(st.image?.repoDigests));
    assert.ok(st.image?.repoTags.includes(ref));
    const info = JSON.parse(st.info["info"]!) as { chainID: string; imageSpec: { architecture: string } };
    assert.equal(info.imageSpec.architecture, "amd64");
    assert.ok((await snapshotKeys(cd)).includes(info.chainID), "amd64 layers are unpacked");
    const content = await contentDigests(cd);
    assert.ok(content.includes(configOf(amd64)));
    assert.ok(!content.includes(configOf(arm64)), "arm64 config was fetched");
  });

  it("reports uid from a numeric image User", async () => {
    const ref = t.harness.images.busyboxUser;
    await t.client.image.pullImage({ image: { image: ref } });
    const st = await t.client.image.imageStatus({ image: { image: ref } });
    assert.equal(st.image?.uid?.value, 1234n);
    assert.equal(st.image?.username, "");
  });

  it("pins the sandbox image", async () => {
    const ref = t.harness.images.pause;
    const res = await t.client.image.pullImage({ image: { image: ref } });
    const st = await t.client.image.imageStatus({ image: { image: res.imageRef } });
    assert.equal(st.image?.pinned, true);
    const img = (await cd.images.get({ name: ref })).image;
    assert.equal(img?.labels["io.cri-containerd.pinned"], "pinned");
    const idRecord = (await cd.images.get({ name: res.imageRef })).image;
    assert.equal(idRecord?.labels["io.cri-containerd.pinned"], "pinned");
  });

  it("pulls from the auth registry with username/password and with auth, refuses none or wrong ones", async () => {
    const h = t.harness;
    const ref = h.images.private;
    const { username, password } = h.authRegistry;
    const before = await contentDigests(cd);
    assert.equal(await codeOfCall(t.client.image.pullImage({ image: { image: ref } })), Code.UNAUTHENTICATED);
    assert.equal(await codeOfCall(t.client.image.pullImage({ image: { image: ref }, auth: { username, password: "wrong" } })), Code.UNAUTHENTICATED);
    // Credentials for another registry are not sent to this one.
    const elsewhere = { username, password, serverAddress: `http://${h.registry.host}` };
    assert.equal(await codeOfCall(t.client.image.pullImage({ image: { image: ref }, auth: elsewhere })), Code.UNAUTHENTICATED);
    assert.deepEqual(await contentDigests(cd), before);
    assert.equal(await codeOfCall(t.client.image.imageStatus({ image: { image: ref } })), Code.OK);
    assert.equal((await t.client.image.imageStatus({ image: { image: ref } })).image, undefined);

    const res = await t.client.image.pullImage({ image: { image: ref }, auth: { username, password, serverAddress: h.authRegistry.host } });
    assert.equal(res.imageRef, configDigest(h, ref));
    const auth = Buffer.from(`${username}:${password}`).toString("base64");
    assert.equal((await t.client.image.pullImage({ image: { image: ref }, auth: { auth } })).imageRef, configDigest(h, ref));
    assert.deepEqual(await leases(cd), []);
  });

  it("answers bad input with clear codes and leaves nothing behind", async () => {
    const h = t.harness;
    const namesBefore = await imageNames(cd);
    const contentBefore = await contentDigests(cd);
    const cases: Array<[string, number, RegExp]> = [
      ["", Code.INVALID_ARGUMENT, /image reference is empty/],
      ["Busybox:latest", Code.INVALID_ARGUMENT, /must be lowercase/],
      ["busy box", Code.INVALID_ARGUMENT, /invalid reference format/],
      [`${nameOf(h.images.busybox)}@sha256:abc`, Code.INVALID_ARGUMENT, /invalid reference format/],
      [`${nameOf(h.images.busybox)}:no-such-tag`, Code.NOT_FOUND, /not found/],
      [`${h.registry.host}/no-such-repo:latest`, Code.NOT_FOUND, /not found/],
      [`${nameOf(h.images.busybox)}@sha256:${"0".repeat(64)}`, Code.NOT_FOUND, /not found/],
      ["127.0.0.1:1/busybox:latest", Code.UNAVAILABLE, /connection refused/],
    ];
    for (const [image, code, message] of cases) {
      const err = await t.client.image.pullImage({ image: { image } }).then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
      assert.ok(err, `pull of ${JSON.stringify(image)} succeeded`);
      assert.equal(err.code, code, `${image}: ${err.details}`);
      assert.match(err.details, message, image);
    }
    const badHandler = t.client.image.pullImage({ image: { image: h.images.busybox, runtimeHandler: "no-such-runtime" } });
    assert.equal(await codeOfCall(badHandler), Code.INVALID_ARGUMENT);
    const badAuth = t.client.image.pullImage({ image: { image: h.images.busybox }, auth: { auth: "bm8tY29sb24=" } });
    assert.equal(await codeOfCall(badAuth), Code.INVALID_ARGUMENT);

    assert.deepEqual(await imageNames(cd), namesBefore);
    assert.deepEqual(await contentDigests(cd), contentBefore);
    assert.deepEqual(await leases(cd), []);
    // Unknown images: ImageStatus is empty, RemoveImage succeeds.
    const unknown = `${nameOf(h.images.busybox)}:no-such-tag`;
    assert.equal((await t.client.image.imageStatus({ image: { image: unknown } })).image, undefined);
    assert.equal(await codeOfCall(t.client.image.removeImage({ image: { image: unknown } })), Code.OK);
    assert.equal(await codeOfCall(t.client.image.imageStatus({ image: { image: "" } })), Code.INVALID_ARGUMENT);
  });

  it("lists every image, or the one a filter names; resolves ids by prefix", async () => {
    const h = t.harness;
    const all = (await t.client.image.listImages({})).images;
    const ids = all.map((i) => i.id);
    for (const ref of [h.images.busybox, h.images.busyboxUser, h.images.pause]) assert.ok(ids.includes(configDigest(h, ref)), ref);
    const filtered = await t.client.image.listImages({ filter: { image: { image: h.images.busyboxUser } } });
    assert.deepEqual(
      filtered.images.map((i) => i.id),
      [configDigest(h, h.images.busyboxUser)],
    );
    assert.deepEqual((await t.client.image.listImages({ filter: { image: { image: `${h.registry.host}/nothing:here` } } })).images, []);
    const id = configDigest(h, h.images.busyboxUser);
    assert.equal((await t.client.image.imageStatus({ image: { image: id.slice(0, 19) } })).image?.id, id);
    assert.equal((await t.client.image.imageStatus({ image: { image: id.slice(7, 19) } })).image?.id, id);
  });

  it("gives verbose ImageStatus info as containerd does (chainID, imageSpec)", async () => {
    const ref = t.harness.images.busyboxUser;
    const st = await t.client.image.imageStatus({ image: { image: ref }, verbose: true });
    const info = JSON.parse(st.info["info"]!) as { chainID: string; imageSpec: { config: { User: string }; rootfs: { diff_ids: string[] } } };
    assert.deepEqual(Object.keys(info), ["chainID", "imageSpec"]);
    assert.equal(info.imageSpec.config.User, "1234:1234");
    assert.match(info.chainID, /^sha256:[a-f0-9]{64}$/);
    assert.deepEqual((await t.client.image.imageStatus({ image: { image: ref } })).info, {});
  });

  it("shares one transfer between concurrent pulls of one reference", async () => {
    const ref = t.harness.images.busyboxV2;
    const before = t.rpcLogs("PullImage").length;
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => t.client.image.pullImage({ image: { image: ref } })));
    assert.equal(a!.imageRef, configDigest(t.harness, ref));
    assert.equal(b!.imageRef, a!.imageRef);
    assert.equal(c!.imageRef, a!.imageRef);
    const lines = t.rpcLogs("PullImage").slice(before);
    assert.equal(lines.length, 3);
    // One Transfer call (2.x), or one pull lease for crib's own client-side pull (1.6/1.7).
    const pulls = lines.flatMap((l) => l.containerd ?? []).filter((call) => call.method === TRANSFER || call.method === "leases.v1.Leases/Create");
    assert.equal(pulls.length, 1, JSON.stringify(lines.map((l) => l.containerd?.map((x) => x.method))));
  });

  it("keeps an image by digest when its tag moves to a newer pull", async () => {
    const h = t.harness;
    const tag = `${h.registry.host}/moving-images-${randomBytes(3).toString("hex")}:latest`;
    await pushImage(h.images.movingV1, tag);
    const first = await t.client.image.pullImage({ image: { image: tag } });
    const firstManifest = (await fetchManifest(tag)).digest;
    await pushImage(h.images.movingNext, tag);
    const second = await t.client.image.pullImage({ image: { image: tag } });
    assert.notEqual(second.imageRef, first.imageRef);

    const old = (await t.client.image.imageStatus({ image: { image: first.imageRef } })).image;
    assert.ok(!old?.repoTags.includes(tag), "old image keeps the moved tag");
    assert.ok(old?.repoDigests.includes(`${nameOf(tag)}@${firstManifest}`), JSON.stringify(old?.repoDigests));
    const now = (await t.client.image.imageStatus({ image: { image: tag } })).image;
    assert.equal(now?.id, second.imageRef);
    assert.ok(now?.repoTags.includes(tag));
  });

  it("re-pulling a present image whose snapshot is gone unpacks it again", async () => {
    const ref = t.harness.images.busyboxV2;
    const st = await t.client.image.imageStatus({ image: { image: ref }, verbose: true });
    const chain = (JSON.parse(st.info["info"]!) as { chainID: string }).chainID;
    const parents: string[] = [];
    for await (const r of cd.snapshots.list({ snapshotter: "overlayfs", filters: [] })) for (const i of r.info) parents.push(i.parent);
    assert.ok(!parents.includes(chain), "the image's top snapshot has children; pick another image");
    await cd.snapshots.remove({ snapshotter: "overlayfs", key: chain });
    assert.ok(!(await snapshotKeys(cd)).includes(chain));
    await t.client.image.pullImage({ image: { image: ref } });
    assert.ok((await snapshotKeys(cd)).includes(chain));
  });

  it("reports the snapshotter's usage in ImageFsInfo", async () => {
    const res = await t.client.image.imageFsInfo({});
    const fs = res.imageFilesystems[0]!;
    assert.equal(fs.fsId?.mountpoint, join(t.harness.containerd.root, "io.containerd.snapshotter.v1.overlayfs"));
    assert.ok((fs.usedBytes?.value ?? 0n) > 0n);
    assert.ok((fs.inodesUsed?.value ?? 0n) > 0n);
    const ageMs = Date.now() - Number(fs.timestamp / 1_000_000n);
    assert.ok(ageMs >= 0 && ageMs < 10_000, `timestamp ${fs.timestamp}`);
  });

  it("rebuilds the same image list from containerd after a restart, adopting images pulled by others", async () => {
    const h = t.harness;
    // An image another client (ctr) pulled into the namespace, without the CRI labels.
    const foreign = h.images.movingNext;
    await ctr(h.containerd, ["images", "pull", "--hosts-dir", h.hostsDir, foreign], { namespace: t.config.namespace });
    assert.equal((await cd.images.get({ name: foreign })).image?.labels["io.cri-containerd.image"], undefined);
    const before = (await t.client.image.listImages({})).images;
    const namespace = t.config.namespace;
    await t.stop();
    t = await startTestCrib({ namespace });
    cd = t.containerd;
    const after = (await t.client.image.listImages({})).images;
    const key = (i: (typeof before)[number]) => JSON.stringify([i.id, [...i.repoTags].sort(), [...i.repoDigests].sort(), String(i.size), i.pinned, String(i.uid?.value)]);
    const adopted = after.find((i) => i.repoTags.includes(foreign));
    assert.ok(adopted, "the image ctr pulled is not listed after the restart");
    assert.equal(adopted.id, configDigest(h, foreign));
    // Everything else is as before; the foreign names joined the image with its content.
    const foreignName = nameOf(foreign);
    const withoutForeign = (i: (typeof before)[number]) => ({
      ...i,
      repoTags: i.repoTags.filter((r) => r !== foreign),
      repoDigests: i.repoDigests.filter((r) => !r.startsWith(`${foreignName}@`)),
    });
    assert.deepEqual(after.map(withoutForeign).map(key).sort(), before.map(key).sort());
    // As containerd's CRI does at start: the name is labelled managed and the image gets its id name.
    assert.equal((await cd.images.get({ name: foreign })).image?.labels["io.cri-containerd.image"], "managed");
    assert.equal((await cd.images.get({ name: adopted.id })).image?.labels["io.cri-containerd.image"], "managed");
  });

  it("removes every name of an image, is idempotent, and leaves no content or snapshots", async () => {
    const h = t.harness;
    const ref = h.images.busybox;
    const want = h.digests[ref]!;
    await t.client.image.removeImage({ image: { image: ref } });
    assert.equal((await t.client.image.imageStatus({ image: { image: want.config } })).image, undefined);
    for (const tag of h.images.busyboxTags) assert.equal((await t.client.image.imageStatus({ image: { image: tag } })).image, undefined, tag);
    const names = await imageNames(cd);
    for (const n of names) assert.ok(!n.includes(want.manifest) && n !== want.config && !h.images.busyboxTags.includes(n), n);
    assert.equal(await codeOfCall(t.client.image.removeImage({ image: { image: ref } })), Code.OK);
    assert.equal(await codeOfCall(t.client.image.removeImage({ image: { image: want.config } })), Code.OK);

    // Now everything: nothing of any image may remain in the namespace.
    for (const img of (await t.client.image.listImages({})).images) await t.client.image.removeImage({ image: { image: img.id } });
    assert.deepEqual((await t.client.image.listImages({})).images, []);
    assert.deepEqual(await imageNames(cd), []);
    await eventually("content and snapshots are collected", async () => (await contentDigests(cd)).length === 0 && (await snapshotKeys(cd)).length === 0);
    assert.deepEqual(await leases(cd), []);
  });
});

describe("PullImage without progress", () => {
  let proxy: StallingProxy;
  let t: TestCrib;
  before(async () => {
    const h = loadHarness();
    proxy = await startStallingProxy({ upstream: h.registry.host, harnessHostsDir: h.hostsDir, dir: join(h.scratchDir, `stall-${randomBytes(3).toString("hex")}`), bytesBeforeStall: 1000 });
    t = await startTestCrib({ imagePullProgressTimeoutMs: 1500, registryConfigPath: proxy.hostsDir, namespace: `crib-images-stall-${randomBytes(3).toString("hex")}` });
  });
  after(async () => {
    await t?.stop();
    await proxy?.close();
  });

  async function assertNothingLeft(cd: Containerd) {
    await eventually("the transfer's lease is gone", async () => (await leases(cd)).length === 0);
    await eventually("no ingest is left", async () => (await cd.content.listStatuses({ filters: [] })).statuses.length === 0);
    assert.deepEqual(await imageNames(cd), []);
  }

  // Images whose layers no other test pulled: containerd shares content across namespaces,
  // so a blob another test file already pulled would not be downloaded (nor stalled) here.
  async function freshImage(name: string): Promise<string> {
    const ref = await pushRandomImage(loadHarness().registry.host, `${name}-${randomBytes(3).toString("hex")}`);
    return ref.replace(loadHarness().registry.host, proxy.host);
  }

  it("is cancelled after image_pull_progress_timeout with DEADLINE_EXCEEDED, leaving no lease, ingest or name", async () => {
    const image = await freshImage("stall");
    const stallsBefore = proxy.stalled();
    const started = Date.now();
    const err = await t.client.image.pullImage({ image: { image } }).then(
      () => undefined,
      (e: { code: number; details: string }) => e,
    );
    assert.ok(err, "a stalled pull succeeded");
    assert.equal(err.code, Code.DEADLINE_EXCEEDED, err.details);
    assert.match(err.details, /no progress for 1500ms/);
    assert.ok(proxy.stalled() > stallsBefore, "the proxy never stalled a download");
    assert.ok(Date.now() - started < 15_000);
    await assertNothingLeft(t.containerd);
  });

  it("is cancelled when the client gives up first, leaving nothing behind", async () => {
    const image = await freshImage("give-up");
    const code = await codeOfCall(t.client.image.pullImage({ image: { image } }, { timeoutMs: 700 }));
    assert.equal(code, Code.DEADLINE_EXCEEDED);
    await eventually("crib logs the pull as cancelled by the client", async () =>
      t.rpcLogs("PullImage").some((l) => l.code === "CANCELLED" && /cancelled by the client/.test(l.error ?? "")),
    );
    await assertNothingLeft(t.containerd);
  });
});

describe("PullImage into a snapshotter containerd does not unpack for", () => {
  it("fails with FAILED_PRECONDITION naming unpack_config, and leaves no name behind (2.x Transfer); 1.x: crib unpacks it itself", async () => {
    const t = await startTestCrib({ snapshotter: "native" });
    try {
      if (majorVersion(t.harness.containerd.version) < 2) {
        // crib's client-side pull unpacks for whatever snapshotter it is configured with.
        const res = await t.client.image.pullImage({ image: { image: t.harness.images.busybox } });
        assert.equal(res.imageRef, configDigest(t.harness, t.harness.images.busybox));
        const st = await t.client.image.imageStatus({ image: { image: res.imageRef }, verbose: true });
        const chain = (JSON.parse(st.info["info"]!) as { chainID: string }).chainID;
        await t.containerd.snapshots.stat({ snapshotter: "native", key: chain });
        return;
      }
      const err = await t.client.image.pullImage({ image: { image: t.harness.images.busybox } }).then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
      assert.ok(err);
      assert.equal(err.code, Code.FAILED_PRECONDITION, err.details);
      assert.match(err.details, /unpack_config/);
      assert.deepEqual(await imageNames(t.containerd), []);
      assert.deepEqual((await t.client.image.listImages({})).images, []);
    } finally {
      await t.stop();
    }
  });
});
