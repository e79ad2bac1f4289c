import { test } from "node:test";
import assert from "node:assert/strict";
import { PulledDescriptors, LEGACY_CONFIG_MEDIA_TYPE } from "../../src/image/pull-descriptors.js";
import { MEDIA_TYPES, type Descriptor } from "../../src/image/image-info.js";

const REF = "127.0.0.1:5000/app:v1";
const index: Descriptor = { mediaType: MEDIA_TYPES.ociIndex, digest: "sha256:aa", size: 300 };
const manifest: Descriptor = { mediaType: MEDIA_TYPES.ociManifest, digest: "sha256:bb", size: 400, platform: { os: "linux", architecture: "amd64" } };
const config: Descriptor = { mediaType: "application/vnd.oci.image.config.v1+json", digest: "sha256:cc", size: 500 };
const layer: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: "sha256:dd", size: 600 };

/** The events containerd 2.1's progress tracker sends for a pull of an index (as seen from a real pull). */
function indexPull(d: PulledDescriptors): void {
  d.handle({ event: "Resolving from OCI Registry (x)", parents: [], desc: undefined });
  d.handle({ event: "waiting", parents: [REF], desc: index });
  d.handle({ event: "waiting", parents: ["index-sha256:aa"], desc: manifest });
  d.handle({ event: "waiting", parents: ["manifest-sha256:bb"], desc: config });
  d.handle({ event: "waiting", parents: ["manifest-sha256:bb"], desc: layer });
  d.handle({ event: "saved", parents: [], desc: undefined });
  d.handle({ event: "complete", parents: ["manifest-sha256:bb"], desc: config });
  d.handle({ event: "already exists", parents: [], desc: layer });
}

test("the root descriptor (parent: the reference) is the stored target; every blob is listed once", () => {
  const d = new PulledDescriptors(REF);
  indexPull(d);
  assert.deepEqual(d.target(), index);
  assert.deepEqual(d.descriptors(), [index, manifest, config, layer]);
});

test("no target without a root event, with two roots, or with a root for another reference", () => {
  const none = new PulledDescriptors(REF);
  none.handle({ event: "waiting", parents: ["manifest-sha256:bb"], desc: config });
  none.handle({ event: "complete", parents: [REF], desc: manifest });
  assert.equal(none.target(), undefined);

  const two = new PulledDescriptors(REF);
  two.handle({ event: "waiting", parents: [REF], desc: index });
  two.handle({ event: "waiting", parents: [REF], desc: manifest });
  assert.equal(two.target(), undefined);

  const other = new PulledDescriptors(REF);
  other.handle({ event: "waiting", parents: ["127.0.0.1:5000/app:v2"], desc: index });
  assert.equal(other.target(), undefined);
});

test("a legacy (application/octet-stream) config means containerd stores a converted manifest: no target", () => {
  const d = new PulledDescriptors(REF);
  d.handle({ event: "waiting", parents: [REF], desc: { ...manifest, mediaType: MEDIA_TYPES.dockerManifest } });
  d.handle({ event: "waiting", parents: ["manifest-sha256:bb"], desc: { ...config, mediaType: LEGACY_CONFIG_MEDIA_TYPE } });
  assert.equal(d.target(), undefined);
  assert.equal(d.descriptors().length, 2);
});
