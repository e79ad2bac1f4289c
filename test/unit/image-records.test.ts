import { test } from "node:test";
import assert from "node:assert/strict";
import { imageUpdate } from "../../src/image/image-records.js";
import { MEDIA_TYPES, type Descriptor } from "../../src/image/image-info.js";

const manifest: Descriptor = { mediaType: MEDIA_TYPES.ociManifest, digest: "sha256:bb", size: 400 };

test("imageUpdate: an existing name is re-pointed and labelled as containerd's createOrUpdateImageReference does", () => {
  const managed = { "io.cri-containerd.image": "managed" };
  const pinnedLabels = { ...managed, "io.cri-containerd.pinned": "pinned" };
  // Same target, labels already there: nothing to change.
  assert.deepEqual(imageUpdate({ labels: managed, target: { digest: manifest.digest } }, manifest, managed), { paths: [], pinned: false });
  // Another target: the target moves, labels kept.
  assert.deepEqual(imageUpdate({ labels: managed, target: { digest: "sha256:old" } }, manifest, managed), { paths: ["target"], pinned: false });
  // A name without the managed label gets it; the pinned label is added, never taken away.
  assert.deepEqual(imageUpdate({ labels: {}, target: { digest: manifest.digest } }, manifest, pinnedLabels), {
    paths: ["target", "labels.io.cri-containerd.image", "labels.io.cri-containerd.pinned"],
    pinned: true,
  });
  assert.deepEqual(imageUpdate({ labels: pinnedLabels, target: { digest: manifest.digest } }, manifest, managed), { paths: [], pinned: true });
});
