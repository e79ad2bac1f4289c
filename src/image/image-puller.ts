// PullImage's work (containerd's CRIImageService.PullImage): normalise the reference, pull
// and unpack through the Transfer service, check the unpacked snapshot, then write the CRI
// image records (the id, the repo tag, the repo digest) and the in-memory store. Callers
// pulling the same reference at the same time share one transfer; it is cancelled only
// when every one of them has gone.
import type { Containerd } from "../containerd/client.js";
import { Code, CriError, invalidArgument, isNotFound, wrap } from "../errors.js";
import type { Logger } from "../log.js";
import type { CriImage, ImageStore } from "./image-store.js";
import { descriptorFromProto, criImageLabels, isPinned, writeImageNames } from "./image-records.js";
import { formatPlatform, type Platform } from "./platform.js";
import { formatReference, parseDockerRef, repoDigestAndTag, type ImageReference } from "./reference.js";
import { bearerHeaders, parseAuthConfig, type CriAuthConfig, type RegistryCredentials } from "./registry-auth.js";
import { transferPull } from "./transfer-pull.js";
import { clientPull } from "./client-pull.js";
import { UNPACK_CONFIG_HINT } from "./pull-errors.js";
import { LEGACY_CONFIG_MEDIA_TYPE } from "./pull-descriptors.js";

export interface ImagePullerOptions {
  containerd: Containerd;
  store: ImageStore;
  platform: Platform;
  /** registry.config_path: containerd's certs.d hosts dir, handed to Transfer. */
  registryConfigPath: string;
  progressTimeoutMs: number;
  /**
   * Pull through containerd's Transfer service (2.x: it honours the resolver's host_dir), or
   * crib's own client-side pull (1.6 has no Transfer; 1.7's ignores host_dir, so mirrors
   * and plain-HTTP registries would not work through it).
   */
  pullThrough: "transfer" | "client";
  containerdVersion: string;
  logger: Logger;
}

export interface PullOptions {
  auth?: CriAuthConfig | undefined;
  /** The caller gave up (its RPC was cancelled). */
  signal?: AbortSignal | undefined;
}

interface InFlight {
  result: Promise<CriImage>;
  waiters: number;
  abort: AbortController;
}

export class ImagePuller {
  private readonly inFlight = new Map<string, InFlight>();
  /** Transfers started (two callers sharing one transfer count once). */
  transfersStarted = 0;
  /** Transfers running now, and bytes fetched by the ones that completed (read by the metrics endpoint). */
  transfersRunning = 0;
  bytesPulled = 0;

  constructor(private readonly opts: ImagePullerOptions) {}

  /** Pulls an image and returns it; the CRI image_ref is its id. */
  async pull(image: string, opts: PullOptions = {}): Promise<CriImage> {
    if (image.trim() === "") throw invalidArgument("PullImage: image reference is empty");
    const named = parseDockerRef(image);
    const ref = formatReference(named);
    const credentials = parseAuthConfig(opts.auth);
    let flight = this.inFlight.get(ref);
    if (!flight) {
      const abort = new AbortController();
      const started: InFlight = { waiters: 0, abort, result: Promise.resolve() as unknown as Promise<CriImage> };
      started.result = this.pullOnce(named, ref, credentials, abort.signal).finally(() => {
        if (this.inFlight.get(ref) === started) this.inFlight.delete(ref);
      });
      // A caller that gives up must not leave an unhandled rejection behind.
      started.result.catch(() => {});
      this.inFlight.set(ref, started);
      flight = started;
    } else {
      this.opts.logger.debug("joining in-flight pull", { image: ref });
    }
    return this.wait(flight, ref, opts.signal);
  }

  /** The image if present, else pulled (the sandbox image before RunPodSandbox). */
  async ensure(image: string, opts: PullOptions = {}): Promise<CriImage> {
    return this.opts.store.resolve(image) ?? this.pull(image, opts);
  }

  private wait(flight: InFlight, ref: string, signal: AbortSignal | undefined): Promise<CriImage> {
    flight.waiters++;
    if (!signal) return flight.result;
    return new Promise<CriImage>((resolve, reject) => {
      const leave = () => {
        flight.waiters--;
        if (flight.waiters === 0) {
          flight.abort.abort();
          // A caller arriving now starts afresh instead of joining a pull being cancelled.
          if (this.inFlight.get(ref) === flight) this.inFlight.delete(ref);
        }
        reject(new CriError(Code.CANCELLED, `pull of ${JSON.stringify(ref)} cancelled by the client`));
      };
      if (signal.aborted) return leave();
      signal.addEventListener("abort", leave, { once: true });
      flight.result.then(
        (v) => {
          signal.removeEventListener("abort", leave);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", leave);
          reject(e);
        },
      );
    });
  }

  private async pullOnce(named: ImageReference, ref: string, credentials: RegistryCredentials | undefined, signal: AbortSignal): Promise<CriImage> {
    const { containerd: cd, store, logger } = this.opts;
    const started = Date.now();
    const labels = criImageLabels(ref, store.pinnedNames);
    const knewRef = store.idOf(ref) !== undefined;
    this.transfersStarted++;
    this.transfersRunning++;
    const pullWith = this.opts.pullThrough === "transfer" ? transferPull : clientPull;
    const pulled = await pullWith(cd, {
      ref,
      hostDir: this.opts.registryConfigPath,
      headers: bearerHeaders(credentials, named.domain),
      credentials,
      labels,
      platform: this.opts.platform,
      snapshotter: store.snapshotter,
      progressTimeoutMs: this.opts.progressTimeoutMs,
      signal,
      logger,
    }).finally(() => this.transfersRunning--);
    const { progress } = pulled;
    this.bytesPulled += progress.bytesRead;

    // The pull stored the image under `ref`; everything else derives from its target.
    let target = pulled.target ?? (await storedTarget(cd, ref));
    let info = await store.reader.read(target, pulled.hints);
    // A legacy config makes containerd store a converted manifest, not the one the pull saw.
    if (pulled.target && info.configDescriptor.mediaType === LEGACY_CONFIG_MEDIA_TYPE) {
      target = await storedTarget(cd, ref);
      info = await store.reader.read(target);
    }

    // The other names are created in the round trip that checks the unpack; `ref` itself was
    // just written by the pull, with these labels.
    const { repoDigest, repoTag } = repoDigestAndTag(named, target.digest);
    const names = [info.id, repoTag, repoDigest].filter((name) => name !== "");
    const others = names.filter((name) => name !== ref);
    const { check, written } = await writeImageNames(cd, others, target, labels, () => (store.knownUnpacked(info.chainId) ? Promise.resolve(true) : store.isUnpacked(info.chainId)));

    // containerd's Transfer unpacks only for the platform/snapshotter pairs in its
    // unpack_config and says nothing otherwise: check, and undo the names this pull created
    // (and `ref` if nobody had it before).
    if (check.status === "rejected" || !check.value) {
      const created = others.filter((_, i) => {
        const w = written[i];
        return w?.status === "fulfilled" && w.value.created;
      });
      if (!knewRef && check.status === "fulfilled") created.push(ref);
      await Promise.all(created.map((name) => deleteImageName(cd, name)));
      if (check.status === "rejected") throw check.reason;
      throw new CriError(
        Code.FAILED_PRECONDITION,
        `failed to pull and unpack image ${JSON.stringify(ref)}: containerd did not unpack it for snapshotter ${JSON.stringify(store.snapshotter)} and platform ${formatPlatform(this.opts.platform)}; ${UNPACK_CONFIG_HINT}`,
      );
    }
    // The store follows containerd: the names written are recorded even when another failed.
    let failed: { name: string; reason: unknown } | undefined;
    for (const name of names) {
      const w = name === ref ? undefined : written[others.indexOf(name)];
      if (!w) store.record(name, info, target, isPinned(labels));
      else if (w.status === "fulfilled") store.record(name, info, target, w.value.pinned);
      else failed ??= { name, reason: w.reason };
    }
    if (failed) throw wrap(failed.reason, `failed to create image reference ${JSON.stringify(failed.name)}`);

    logger.info("pulled image", { image: ref, id: info.id, repoTag, repoDigest, size: info.size, bytesRead: progress.bytesRead, ms: Date.now() - started });
    const image = store.get(info.id);
    if (!image) throw new CriError(Code.INTERNAL, `image ${info.id} vanished from the store right after its pull`);
    return image;
  }
}

async function storedTarget(cd: Containerd, ref: string) {
  let stored;
  try {
    stored = (await cd.images.get({ name: ref })).image;
  } catch (e) {
    throw wrap(e, `failed to get image ${JSON.stringify(ref)} from containerd image store`);
  }
  const target = descriptorFromProto(stored?.target);
  if (!target) throw new CriError(Code.INTERNAL, `image ${JSON.stringify(ref)} has no target after pull`);
  return target;
}

function deleteImageName(cd: Containerd, name: string): Promise<unknown> {
  return cd.images.delete({ name, sync: true }).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
}
