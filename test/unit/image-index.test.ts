import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, codeOf } from "../../src/errors.js";
import { ImageIndex, type ImageRecord } from "../../src/image/image-index.js";

const id = (c: string) => "sha256:" + c.repeat(64);
const A = id("a");
const B = id("b");
const AB = "sha256:ab" + "0".repeat(62);

function rec(imageId: string, pinned = false, target = "sha256:" + "f".repeat(64)): ImageRecord {
  return {
    id: imageId,
    chainId: "sha256:chain",
    size: 10,
    config: { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } },
    target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: target, size: 1 },
    pinned,
  };
}

test("names of one image merge into one entry, sorted", () => {
  const ix = new ImageIndex();
  ix.update("h/x:1", rec(A));
  ix.update(A, rec(A));
  ix.update("h/x@sha256:" + "9".repeat(64), rec(A));
  assert.equal(ix.size, 1);
  assert.deepEqual(ix.get(A)!.references, [A, "h/x:1", "h/x@sha256:" + "9".repeat(64)].sort());
});

test("a tag that moves to another image leaves the old image with its other names", () => {
  const ix = new ImageIndex();
  for (const r of ["h/x:1", A, "h/x@d1"]) ix.update(r, rec(A));
  for (const r of ["h/x:1", B, "h/x@d2"]) ix.update(r, rec(B));
  assert.deepEqual(ix.get(A)!.references, [A, "h/x@d1"].sort());
  assert.deepEqual(ix.get(B)!.references, [B, "h/x:1", "h/x@d2"].sort());
  assert.equal(ix.idOf("h/x:1"), B);
});

test("an image goes when its last name goes", () => {
  const ix = new ImageIndex();
  ix.update("h/x:1", rec(A));
  ix.update(A, rec(A));
  ix.update("h/x:1", null);
  assert.ok(ix.get(A));
  ix.update(A, null);
  assert.equal(ix.get(A), undefined);
  assert.equal(ix.size, 0);
  ix.update("never-seen", null);
});

test("pinned while any pinned name is left", () => {
  const ix = new ImageIndex();
  ix.update("h/pause:1", rec(A, true));
  ix.update(A, rec(A, true));
  ix.update("h/other:1", rec(A, false));
  assert.equal(ix.get(A)!.pinned, true);
  ix.update("h/pause:1", null);
  assert.equal(ix.get(A)!.pinned, true);
  ix.update(A, rec(A, false));
  assert.equal(ix.get(A)!.pinned, false);
  ix.update(A, rec(A, true));
  assert.equal(ix.get(A)!.pinned, true);
});

test("the id name's target is the image's target", () => {
  const ix = new ImageIndex();
  ix.update("h/x:1", rec(A, false, "sha256:" + "1".repeat(64)));
  ix.update(A, rec(A, false, "sha256:" + "2".repeat(64)));
  assert.equal(ix.get(A)!.target.digest, "sha256:" + "2".repeat(64));
});

test("get finds ids by unique prefix, with or without the algorithm", () => {
  const ix = new ImageIndex();
  ix.update("h/a:1", rec(A));
  ix.update("h/ab:1", rec(AB));
  ix.update("h/b:1", rec(B));
  const cases: Array<[string, string | undefined]> = [
    [A, A],
    ["sha256:aaa", A],
    ["aaaa", A],
    ["b", B],
    ["sha256:b", B],
    ["sha512:b", undefined],
    ["c", undefined],
    ["", undefined],
    ["busybox", undefined],
  ];
  for (const [q, want] of cases) assert.equal(ix.get(q)?.id, want, q);
  assert.throws(() => ix.get("a"), (e: unknown) => codeOf(e) === Code.INVALID_ARGUMENT);
});

test("resolve normalises names and falls back to id prefixes", () => {
  const ix = new ImageIndex();
  ix.update("docker.io/library/busybox:latest", rec(A));
  ix.update("docker.io/library/busybox@sha256:" + "9".repeat(64), rec(A));
  ix.update("h:5000/app:1", rec(B));
  const cases: Array<[string, string | undefined]> = [
    ["busybox", A],
    ["busybox:latest", A],
    ["docker.io/library/busybox", A],
    ["busybox@sha256:" + "9".repeat(64), A],
    ["busybox:1.0@sha256:" + "9".repeat(64), A],
    ["busybox:2", undefined],
    ["h:5000/app:1", B],
    ["h:5000/app", undefined],
    [B, B],
    ["bbbb", B],
    ["sha256:" + "c".repeat(64), undefined],
  ];
  for (const [q, want] of cases) assert.equal(ix.resolve(q)?.id, want, q);
});
