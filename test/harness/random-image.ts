// Pushes an image whose layer exists nowhere else, straight through the registry's HTTP
// API. containerd shares content across namespaces, so a test that needs a pull to really
// download (a stalled pull, say) must not use a blob another test already pulled.
import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";

function sha256(b: Buffer): string {
  return "sha256:" + createHash("sha256").update(b).digest("hex");
}

/** A one-file POSIX tar (ustar header, data, padding, two zero blocks). */
function tarOfOneFile(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, "utf8");
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148); // checksum field counts as spaces while summing
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, pad, Buffer.alloc(1024)]);
}

async function putBlob(host: string, repo: string, blob: Buffer): Promise<string> {
  const digest = sha256(blob);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
  const location = new URL(start.headers.get("location")!, `http://${host}`);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, { method: "PUT", body: blob, headers: { "content-type": "application/octet-stream" } });
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

/** Pushes <host>/<repo>:<tag> with one random layer of about `size` bytes; returns the reference. */
export async function pushRandomImage(host: string, repo: string, tag = "latest", size = 256 * 1024): Promise<string> {
  // Random bytes do not compress: the gzip is about as large as the data.
  const tar = tarOfOneFile("random.bin", randomBytes(size));
  const layer = gzipSync(tar);
  const layerDigest = await putBlob(host, repo, layer);
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["/random.bin"] }, rootfs: { type: "layers", diff_ids: [sha256(tar)] } }),
  );
  const configDigest = await putBlob(host, repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: layer.length }],
  });
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    body: manifest,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  if (res.status !== 201) throw new Error(`manifest push: HTTP ${res.status} ${await res.text()}`);
  return `${host}/${repo}:${tag}`;
}
