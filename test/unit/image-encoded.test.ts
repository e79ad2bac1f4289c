// ListImages and ImageStatus send each image's cached wire bytes: they must be exactly
// what encoding the CRI messages would give.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ImageStatusResponseSchema, ListImagesResponseSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { encodedImageField, toCriImage } from "../../src/image/image-status.js";
import type { CriImage } from "../../src/image/image-index.js";

function image(i: number, user?: string): CriImage {
  const id = `sha256:${String(i).repeat(64).slice(0, 64)}`;
  return {
    id,
    references: [`docker.io/library/app:v${i}`, `docker.io/library/app@sha256:${"d".repeat(64)}`, id],
    chainId: "sha256:" + "c".repeat(64),
    size: 1234567 * (i + 1),
    config: { config: user === undefined ? {} : { User: user } } as never,
    target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:" + "e".repeat(64), size: 500 } as never,
    pinned: i % 2 === 0,
  };
}

test("ListImages: the concatenated cached fields are the encoded { images: [...] }, for 0, 1 and many images", () => {
  for (const n of [0, 1, 9]) {
    const list = Array.from({ length: n }, (_, i) => image(i, i % 3 === 0 ? "1000" : i % 3 === 1 ? "nobody" : undefined));
    const expected = toBinary(ListImagesResponseSchema, create(ListImagesResponseSchema, { images: list.map(toCriImage) }));
    assert.equal(Buffer.concat(list.map(encodedImageField)).toString("hex"), Buffer.from(expected).toString("hex"));
  }
});

test("ImageStatus: the cached field is the encoded { image } without info", () => {
  const img = image(3, "0");
  const expected = toBinary(ImageStatusResponseSchema, create(ImageStatusResponseSchema, { image: toCriImage(img), info: {} }));
  assert.equal(encodedImageField(img).toString("hex"), Buffer.from(expected).toString("hex"));
  const decoded = fromBinary(ImageStatusResponseSchema, encodedImageField(img));
  assert.equal(decoded.image?.uid?.value, 0n);
  assert.deepEqual(decoded.image?.repoTags, ["docker.io/library/app:v3"]);
});
