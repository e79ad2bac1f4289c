// The harness's pure parts: tool-output parsing and the configs it writes for containerd,
// the registry and CNI. (The harness as a whole is proven by test/integration/harness.test.ts.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { parseAppletList, parseLdd } from "../harness/rootfs.js";
import { mountsUnder } from "../harness/teardown.js";
import { CRI_PLUGIN_IDS, containerdConfig, containerdLayout } from "../harness/containerd.js";
import { hostsToml, registryConfig, registryLayout } from "../harness/registry.js";
import { cniConflist, cniNetworkFor } from "../harness/cni.js";
import { splitReference } from "../harness/registry-client.js";

describe("parseLdd", () => {
  it("keeps resolved paths and the loader, drops vdso", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007ffd)",
      "\tlibresolv.so.2 => /lib/x86_64-linux-gnu/libresolv.so.2 (0x00007f16)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f16)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f16)",
    ].join("\n");
    assert.deepEqual(parseLdd(out), [
      "/lib/x86_64-linux-gnu/libresolv.so.2",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
  });
});

describe("parseAppletList", () => {
  it("makes paths relative and skips blanks and traversal", () => {
    assert.deepEqual(parseAppletList("usr/bin/[\n/bin/sh\n\n../etc/x\nsbin/acpid\n"), ["usr/bin/[", "bin/sh", "sbin/acpid"]);
  });
});

describe("mountsUnder", () => {
  const mountinfo = [
    "22 1 254:0 / / rw - ext4 /dev/vda rw",
    "90 22 0:50 / /tmp/crib-test-a/containerd/state/x/rootfs rw - overlay overlay rw",
    "91 22 0:4 net:[4026532] /tmp/crib-test-a/netns/with\\040space rw - nsfs nsfs rw",
    "92 22 0:51 / /tmp/crib-test-ab/other rw - tmpfs tmpfs rw",
  ].join("\n");
  it("finds mounts below the dir, deepest first, decoding octal escapes, not sibling prefixes", () => {
    assert.deepEqual(mountsUnder("/tmp/crib-test-a", mountinfo), [
      "/tmp/crib-test-a/containerd/state/x/rootfs",
      "/tmp/crib-test-a/netns/with space",
    ]);
  });
});

describe("containerdConfig", () => {
  const l = containerdLayout("/tmp/t/cd");
  it("crib's containerd: every CRI plugin disabled, private paths, hosts dir for transfer", () => {
    const c = parse(containerdConfig(l, "/tmp/t/hosts")) as Record<string, any>;
    assert.equal(c.version, 3);
    assert.equal(c.root, "/tmp/t/cd/root");
    assert.equal(c.grpc.address, "/tmp/t/cd/containerd.sock");
    for (const id of CRI_PLUGIN_IDS) assert.ok(c.disabled_plugins.includes(id), id);
    assert.equal(c.plugins["io.containerd.transfer.v1.local"].config_path, "/tmp/t/hosts");
    assert.equal(c.plugins["io.containerd.cri.v1.runtime"], undefined);
  });
  it("CRI containerd: CRI enabled with our sandbox image, CNI dirs and restricted oom_score_adj", () => {
    const cri = { sandboxImage: "127.0.0.1:5000/pause:3.10", cniBinDir: "/usr/lib/cni", cniConfDir: "/tmp/t/net.d" };
    const c = parse(containerdConfig(l, "/tmp/t/hosts", cri)) as Record<string, any>;
    for (const id of CRI_PLUGIN_IDS) assert.ok(!c.disabled_plugins.includes(id), id);
    const images = c.plugins["io.containerd.cri.v1.images"];
    assert.equal(images.pinned_images.sandbox, cri.sandboxImage);
    assert.equal(images.registry.config_path, "/tmp/t/hosts");
    const runtime = c.plugins["io.containerd.cri.v1.runtime"];
    assert.equal(runtime.restrict_oom_score_adj, true);
    assert.deepEqual(runtime.cni.bin_dirs, ["/usr/lib/cni"]);
    assert.equal(runtime.cni.conf_dir, "/tmp/t/net.d");
  });
});

describe("registry config", () => {
  it("hosts.toml points the host at plain HTTP with pull/resolve/push", () => {
    const t = parse(hostsToml("127.0.0.1:5000")) as Record<string, any>;
    assert.equal(t.server, "http://127.0.0.1:5000");
    assert.deepEqual(t.host["http://127.0.0.1:5000"].capabilities, ["pull", "resolve", "push"]);
    assert.equal(t.host["http://127.0.0.1:5000"].skip_verify, true);
  });
  it("listens on 127.0.0.1 only; htpasswd only when asked", () => {
    const l = registryLayout("/tmp/t/reg");
    const plain = registryConfig(l, 5000, "s", false);
    assert.match(plain, /addr: "127\.0\.0\.1:5000"/);
    assert.doesNotMatch(plain, /htpasswd/);
    assert.match(registryConfig(l, 5000, "s", true), /htpasswd:\n\s+realm: crib-test\n\s+path: "\/tmp\/t\/reg\/htpasswd"/);
  });
});

describe("cniConflist", () => {
  it("bridge + host-local with a private lease dir, then portmap", () => {
    const net = cniNetworkFor("/tmp/crib-test-abc123");
    const c = cniConflist("/tmp/t/ipam", net) as { cniVersion: string; plugins: Array<Record<string, any>> };
    assert.equal(c.cniVersion, "1.0.0");
    assert.equal(c.plugins[0]!.bridge, net.bridge);
    assert.equal(c.plugins[0]!.ipam.ranges[0][0].subnet, net.subnet);
    assert.deepEqual(c.plugins.map((p) => p.type), ["bridge", "portmap"]);
    assert.equal(c.plugins[0]!.ipam.dataDir, "/tmp/t/ipam");
    assert.deepEqual(c.plugins[1]!.capabilities, { portMappings: true });
  });
  it("each run dir gets its own bridge and subnet, stable for its dir", () => {
    const a = cniNetworkFor("/tmp/crib-test-aaaaaa");
    assert.deepEqual(a, cniNetworkFor("/tmp/crib-test-aaaaaa"));
    assert.match(a.bridge, /^cribt\d{3}$/);
    assert.ok(a.bridge.length <= 15, "IFNAMSIZ");
    assert.match(a.subnet, /^10\.88\.(1\d\d|2[0-4]\d)\.0\/24$/);
    const names = new Set(["a", "b", "c", "d", "e", "f"].map((x) => cniNetworkFor(`/tmp/crib-test-${x}${x}${x}`).bridge));
    assert.ok(names.size > 1, "different dirs spread over bridges");
  });
});

describe("splitReference", () => {
  const cases: Array<[string, { host: string; repo: string; reference: string }]> = [
    ["127.0.0.1:5000/busybox:1.0", { host: "127.0.0.1:5000", repo: "busybox", reference: "1.0" }],
    ["127.0.0.1:5000/a/b", { host: "127.0.0.1:5000", repo: "a/b", reference: "latest" }],
    ["127.0.0.1:5000/a@sha256:ab", { host: "127.0.0.1:5000", repo: "a", reference: "sha256:ab" }],
  ];
  for (const [ref, want] of cases) it(ref, () => assert.deepEqual(splitReference(ref), want));
});
