import { test } from "node:test";
import assert from "node:assert/strict";
import { capabilitiesFromPlugins } from "../../src/containerd/capabilities.js";

test("capabilities are detected from Introspection.Plugins", () => {
  const base = [
    { type: "io.containerd.grpc.v1", id: "transfer" },
    { type: "io.containerd.grpc.v1", id: "sandboxes" },
    { type: "io.containerd.grpc.v1", id: "streaming" },
    { type: "io.containerd.snapshotter.v1", id: "overlayfs" },
    { type: "io.containerd.snapshotter.v1", id: "btrfs", initErr: { code: 9 } },
  ];
  const c2 = capabilitiesFromPlugins(base, "2.1.9", "x");
  assert.equal(c2.transfer, true);
  assert.equal(c2.sandboxStore, true);
  assert.deepEqual(c2.snapshotters, ["overlayfs"]);
  assert.equal(c2.criPluginLoaded, false);

  const withCri2 = capabilitiesFromPlugins([...base, { type: "io.containerd.cri.v1", id: "runtime" }], "2.1.9", "x");
  assert.equal(withCri2.criPluginLoaded, true);
  const withCri1 = capabilitiesFromPlugins([{ type: "io.containerd.grpc.v1", id: "cri" }], "1.6.20", "x");
  assert.equal(withCri1.criPluginLoaded, true);
  assert.equal(withCri1.transfer, false);
  // A CRI plugin that failed to initialise does not count.
  const failed = capabilitiesFromPlugins([{ type: "io.containerd.grpc.v1", id: "cri", initErr: { code: 2 } }], "1.6.20", "x");
  assert.equal(failed.criPluginLoaded, false);
});

test("Version carries crib's version as semver build metadata", async () => {
  const { withCribVersion, CRIB_VERSION } = await import("../../src/runtime/runtime-version.js");
  assert.equal(withCribVersion("2.1.9+unknown"), `2.1.9+unknown.crib-${CRIB_VERSION}`);
  assert.equal(withCribVersion("1.7.24"), `1.7.24+crib-${CRIB_VERSION}`);
});
