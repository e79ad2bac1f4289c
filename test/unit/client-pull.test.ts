// Pure parts of crib's client-side pull (containerd 1.6/1.7): registry endpoints from
// hosts.toml, registry auth challenges, GC labels, and which pull path a containerd gets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { majorVersion, pullPath } from "../../src/containerd/capabilities.js";
import { indexGcLabels, manifestGcLabels } from "../../src/image/client-pull.js";
import { parseChallenge } from "../../src/image/registry-client.js";
import { defaultServer, isLocalhost, parseHostsToml } from "../../src/image/registry-hosts.js";

test("the pull path: Transfer on 2.x, crib's own pull on 1.7 (host_dir ignored) and 1.6 (no Transfer)", () => {
  const caps = (version: string, transfer: boolean) => ({ version, transfer, streaming: transfer });
  assert.equal(pullPath(caps("2.1.9", true)), "transfer");
  assert.equal(pullPath(caps("v2.0.0", true)), "transfer");
  assert.equal(pullPath(caps("1.7.24~ds1", true)), "client");
  assert.equal(pullPath(caps("1.6.20~ds1", false)), "client");
  assert.equal(pullPath({ version: "2.1.9", transfer: true, streaming: false }), "client");
  assert.equal(majorVersion("v1.7.24"), 1);
  assert.equal(majorVersion("garbage"), 0);
});

test("registry endpoints without hosts.toml: https, plain http on loopback, Docker Hub's API host", () => {
  assert.equal(defaultServer("docker.io"), "https://registry-1.docker.io");
  assert.equal(defaultServer("quay.io"), "https://quay.io");
  assert.equal(defaultServer("127.0.0.1:5000"), "http://127.0.0.1:5000");
  assert.equal(isLocalhost("localhost:5000"), true);
  assert.equal(isLocalhost("[::1]:5000"), true);
  assert.equal(isLocalhost("10.0.0.1:5000"), false);
  assert.deepEqual(parseHostsToml("quay.io", undefined), [{ base: "https://quay.io/v2", capabilities: ["pull", "resolve", "push"], skipVerify: false, headers: {} }]);
});

test("hosts.toml: mirrors in file order before the server; a section for the server configures it", () => {
  const eps = parseHostsToml(
    "docker.io",
    [
      'server = "https://registry-1.docker.io"',
      '[host."http://mirror.local:5000"]',
      '  capabilities = ["pull"]',
      '  [host."http://mirror.local:5000".header]',
      '    x-token = ["a", "b"]',
      '[host."https://other.example/custom/path"]',
      '  override_path = true',
      '  skip_verify = true',
    ].join("\n"),
  );
  assert.deepEqual(
    eps.map((e) => [e.base, e.capabilities.join(","), e.skipVerify]),
    [
      ["http://mirror.local:5000/v2", "pull", false],
      ["https://other.example/custom/path", "pull,resolve,push", true],
      ["https://registry-1.docker.io/v2", "pull,resolve,push", false],
    ],
  );
  assert.deepEqual(eps[0]!.headers, { "x-token": "a, b" });

  // The harness's shape: the server has its own section (capabilities, skip_verify).
  const own = parseHostsToml("127.0.0.1:5000", 'server = "http://127.0.0.1:5000"\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n');
  assert.deepEqual(own.map((e) => [e.base, e.capabilities.join(",")]), [["http://127.0.0.1:5000/v2", "pull,resolve"]]);
});

test("registry challenges: Bearer with its parameters, Basic, none", () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), {
    scheme: "bearer",
    params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: "basic", params: { realm: "Registry Realm" } });
  assert.equal(parseChallenge(undefined), undefined);
});

test("GC labels tie a manifest to its config and layers, and an index to the manifests crib fetched", () => {
  const d = (digest: string) => ({ mediaType: "m", digest, size: 1 });
  assert.deepEqual(manifestGcLabels(d("sha256:c"), [d("sha256:l0"), d("sha256:l1")]), {
    "containerd.io/gc.ref.content.config": "sha256:c",
    "containerd.io/gc.ref.content.l.0": "sha256:l0",
    "containerd.io/gc.ref.content.l.1": "sha256:l1",
  });
  assert.deepEqual(indexGcLabels([d("sha256:arm"), d("sha256:amd")], new Set(["sha256:amd"])), { "containerd.io/gc.ref.content.m.1": "sha256:amd" });
});
