// A pull done by crib itself, for a containerd whose Transfer service is missing (1.6) or
// ignores the resolver's host_dir (1.7): what containerd's Go client does in client.Pull.
// Resolve the reference on the registry (hosts.toml mirrors first), pick the host's
// manifest, write config, layers, manifest and index into the content store with the GC
// labels that tie them together, unpack the layers into snapshots, label the config with
// the top snapshot, and record the image. All under one lease, deleted at the end.
import { randomBytes } from "node:crypto";
import type { Containerd } from "../containerd/client.js";
import { CriError, Code, notFound } from "../errors.js";
import { contentExists, ingest, labelContent } from "./content-ingest.js";
import { parseImageConfig } from "./image-config.js";
import { parseManifestBlob, type Descriptor } from "./image-info.js";
import { createOrUpdateImage } from "./image-records.js";
import { unpackLayers } from "./layer-unpack.js";
import { chooseManifest, formatPlatform } from "./platform.js";
import { PullProgress } from "./pull-progress.js";
import { pullFailure, watchPull, type PullWatch } from "./pull-watchdog.js";
import { parseDockerRef } from "./reference.js";
import { RegistryRepository, type FetchedManifest } from "./registry-client.js";
import { registryEndpoints } from "./registry-hosts.js";
import type { TransferPullRequest, TransferPullResult } from "./transfer-pull.js";

/** Layers fetched at once (containerd's default max_concurrent_downloads is 3). */
const CONCURRENT_DOWNLOADS = 3;
const MAX_CONFIG_BYTES = 16 << 20;
const LEASE_EXPIRY_MS = 3600_000;

const GC_CONTENT = "containerd.io/gc.ref.content";
const UNCOMPRESSED = "containerd.io/uncompressed";

/** Pure: the GC labels of a manifest (its config and layers) as containerd's images.ChildGCLabels makes them. */
export function manifestGcLabels(config: Descriptor, layers: readonly Descriptor[]): Record<string, string> {
  const labels: Record<string, string> = { [`${GC_CONTENT}.config`]: config.digest };
  layers.forEach((l, i) => (labels[`${GC_CONTENT}.l.${i}`] = l.digest));
  return labels;
}

/** Pure: the GC labels of an index for the children crib fetched. */
export function indexGcLabels(manifests: readonly Descriptor[], fetched: ReadonlySet<string>): Record<string, string> {
  const labels: Record<string, string> = {};
  manifests.forEach((m, i) => {
    if (fetched.has(m.digest)) labels[`${GC_CONTENT}.m.${i}`] = m.digest;
  });
  return labels;
}

async function mapLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function bufferSource(b: Buffer): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield b;
  })();
}

export async function clientPull(cd: Containerd, req: TransferPullRequest): Promise<TransferPullResult> {
  const started = Date.now();
  const progress = new PullProgress(req.progressTimeoutMs, started);
  const abort = new AbortController();
  const onCallerAbort = () => abort.abort();
  req.signal.addEventListener("abort", onCallerAbort, { once: true });
  if (req.signal.aborted) abort.abort();
  const lease = `crib-pull-${randomBytes(8).toString("hex")}`;
  let leased = false;
  let watch: PullWatch | undefined;
  try {
    const named = parseDockerRef(req.ref);
    const repo = new RegistryRepository(named.domain, named.path, await registryEndpoints(req.hostDir, named.domain), req.credentials, abort.signal);
    watch = watchPull(req.ref, progress, req.progressTimeoutMs, started, abort, req.logger);
    await cd.leases.create({ id: lease, labels: { "containerd.io/gc.expire": new Date(Date.now() + LEASE_EXPIRY_MS).toISOString() } });
    leased = true;
    const put = (digest: string, size: number, body: Buffer, labels: Record<string, string>) =>
      ingest(cd, bufferSource(body), { digest, size, labels, lease, signal: abort.signal });

    const top = await repo.manifest(named.digest ?? named.tag ?? "latest");
    const topDesc: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.body.length };
    let manifest: FetchedManifest = top;
    let index: { manifests: Descriptor[] } | undefined;
    const parsedTop = parseManifestBlob(top.mediaType, top.body, top.digest);
    if (parsedTop.kind === "index") {
      index = parsedTop;
      const chosen = chooseManifest(req.platform, parsedTop.manifests);
      if (!chosen) throw notFound(`no match for platform ${formatPlatform(req.platform)} in manifest ${top.digest}`);
      manifest = await repo.manifest(chosen.digest);
      manifest.mediaType = chosen.mediaType || manifest.mediaType;
    }
    const parsed = parseManifestBlob(manifest.mediaType, manifest.body, manifest.digest);
    if (parsed.kind !== "manifest") throw new CriError(Code.FAILED_PRECONDITION, `manifest ${manifest.digest} of ${req.ref} is an index inside an index`);

    // The config first: its diff ids name the snapshots, and it is small.
    const configBlob = await readSmallBlob(repo, parsed.config.digest);
    const config = parseImageConfig(configBlob, parsed.config.digest);
    const diffIds = config.rootfs.diff_ids;
    for (const l of [parsed.config, ...parsed.layers]) {
      progress.handle({ event: "waiting", name: l.digest, progress: 0, total: l.size, hasDescriptor: true });
    }
    await put(parsed.config.digest, configBlob.length, configBlob, {});
    progress.handle({ event: "complete", name: parsed.config.digest, progress: configBlob.length, total: configBlob.length, hasDescriptor: true });

    await mapLimited(parsed.layers.map((l, i) => ({ l, i })), CONCURRENT_DOWNLOADS, async ({ l, i }) => {
      if (await contentExists(cd, l.digest)) {
        progress.handle({ event: "already exists", name: l.digest, progress: l.size, total: l.size, hasDescriptor: true });
        return;
      }
      const body = await repo.blob(l.digest);
      const labels: Record<string, string> = diffIds[i] ? { [UNCOMPRESSED]: diffIds[i]! } : {};
      await ingest(cd, body, {
        digest: l.digest,
        size: l.size,
        labels,
        lease,
        signal: abort.signal,
        onProgress: (n) => progress.handle({ event: "downloading", name: l.digest, progress: n, total: l.size, hasDescriptor: true }),
      });
      progress.handle({ event: "complete", name: l.digest, progress: l.size, total: l.size, hasDescriptor: true });
    });

    await put(manifest.digest, manifest.body.length, manifest.body, manifestGcLabels(parsed.config, parsed.layers));
    if (index) await put(top.digest, top.body.length, top.body, indexGcLabels(index.manifests, new Set([manifest.digest])));

    const topChain = await unpackLayers(cd, { snapshotter: req.snapshotter, layers: parsed.layers, diffIds, lease, signal: abort.signal });
    // containerd's unpacker: the config holds the snapshot for GC once the lease is gone.
    if (topChain) await labelContent(cd, parsed.config.digest, { [`containerd.io/gc.ref.snapshot.${req.snapshotter}`]: topChain });
    await createOrUpdateImage(cd, req.ref, topDesc, req.labels);
    const blobs = new Map([
      [top.digest, top.body],
      [manifest.digest, manifest.body],
      [parsed.config.digest, configBlob],
    ]);
    return { progress: progress.snapshot(), target: topDesc, hints: { blobs } };
  } catch (e) {
    throw pullFailure(req.ref, watch, req.signal, e);
  } finally {
    watch?.stop();
    req.signal.removeEventListener("abort", onCallerAbort);
    if (leased) await cd.leases.delete({ id: lease, sync: false }).catch(() => undefined);
  }
}

async function readSmallBlob(repo: RegistryRepository, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of (await repo.blob(digest)) as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_CONFIG_BYTES) throw new CriError(Code.FAILED_PRECONDITION, `image config ${digest} is larger than ${MAX_CONFIG_BYTES} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
