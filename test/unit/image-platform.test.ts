import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseManifest, hostPlatform, platformRank, type Platform } from "../../src/image/platform.js";
import { parseManifestBlob } from "../../src/image/image-info.js";

test("hostPlatform maps node's arch names to Go's", () => {
  assert.deepEqual(hostPlatform("x64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(hostPlatform("arm64"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(hostPlatform("ia32"), { os: "linux", architecture: "386" });
});

test("platformRank: the host's own arch first, what it also runs after, others never", () => {
  const amd64: Platform = { os: "linux", architecture: "amd64" };
  const arm64: Platform = { os: "linux", architecture: "arm64", variant: "v8" };
  const cases: Array<[Platform, Platform, number]> = [
    [amd64, { os: "linux", architecture: "amd64" }, 0],
    [amd64, { os: "linux", architecture: "amd64", variant: "v3" }, 0],
    [amd64, { os: "linux", architecture: "386" }, 1],
    [amd64, { os: "linux", architecture: "arm64" }, -1],
    [amd64, { os: "windows", architecture: "amd64" }, -1],
    [amd64, { os: "unknown", architecture: "unknown" }, -1],
    [arm64, { os: "linux", architecture: "arm64" }, 0],
    [arm64, { os: "linux", architecture: "arm", variant: "v7" }, 2],
    [arm64, { os: "linux", architecture: "amd64" }, -1],
  ];
  for (const [host, c, want] of cases) assert.equal(platformRank(host, c), want, JSON.stringify([host, c]));
});

test("chooseManifest picks the host's entry regardless of order", () => {
  const host: Platform = { os: "linux", architecture: "amd64" };
  const entries = [
    { digest: "arm64", platform: { os: "linux", architecture: "arm64" } },
    { digest: "attestation", platform: { os: "unknown", architecture: "unknown" } },
    { digest: "386", platform: { os: "linux", architecture: "386" } },
    { digest: "amd64", platform: { os: "linux", architecture: "amd64" } },
  ];
  assert.equal(chooseManifest(host, entries)?.digest, "amd64");
  assert.equal(chooseManifest(host, entries.slice(0, 3))?.digest, "386");
  assert.equal(chooseManifest(host, entries.slice(0, 2)), undefined);
  const unlabelled: Array<{ digest: string; platform?: Platform }> = [{ digest: "any" }];
  assert.equal(chooseManifest(host, unlabelled)?.digest, "any");
});

test("parseManifestBlob tells indexes from manifests", () => {
  const idx = parseManifestBlob(
    "application/vnd.oci.image.index.v1+json",
    Buffer.from(JSON.stringify({ manifests: [{ mediaType: "m", digest: "sha256:1", size: 5, platform: { os: "linux", architecture: "amd64" } }] })),
    "sha256:i",
  );
  assert.equal(idx.kind, "index");
  const man = parseManifestBlob(
    "application/vnd.docker.distribution.manifest.v2+json",
    Buffer.from(JSON.stringify({ config: { mediaType: "c", digest: "sha256:c", size: 3 }, layers: [{ mediaType: "l", digest: "sha256:l", size: 7 }] })),
    "sha256:m",
  );
  assert.deepEqual(man, { kind: "manifest", config: { mediaType: "c", digest: "sha256:c", size: 3 }, layers: [{ mediaType: "l", digest: "sha256:l", size: 7 }] });
  assert.throws(() => parseManifestBlob("application/vnd.docker.distribution.manifest.v1+prettyjws", Buffer.from("{}"), "sha256:s"), /schema 1/);
});
