// Writes one blob into containerd's content store over Content.Write (the bidi stream
// containerd's Go client uses): WRITE requests with the data at their offset, then COMMIT
// with the expected digest and size, so containerd verifies the bytes. Each request gets
// one response; crib waits for it before sending the next, which bounds what is buffered.
import { WriteAction } from "../gen/github.com/containerd/containerd/api/services/content/v1/content_pb.js";
import type { Containerd } from "../containerd/client.js";
import { isAlreadyExists, isNotFound, wrap } from "../errors.js";
import { randomBytes } from "node:crypto";

/** Data is sent in pieces of at most this size (well under the 16 MiB message limit). */
const WRITE_CHUNK = 1 << 20;

export interface IngestRequest {
  digest: string;
  size: number;
  labels: Record<string, string>;
  lease: string;
  signal: AbortSignal;
  /** Called with the bytes written so far after each piece. */
  onProgress?: (written: number) => void;
}

/** True when containerd already holds the blob (nothing to fetch). */
export async function contentExists(cd: Containerd, digest: string): Promise<boolean> {
  try {
    await cd.content.info({ digest });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw wrap(e, `failed to stat content ${digest}`);
  }
}

/**
 * Streams `data` into the content store. A unique ref per write: two pulls of the same
 * blob each write theirs and the second commit finds it AlreadyExists, which is success.
 */
export async function ingest(cd: Containerd, data: AsyncIterable<Uint8Array>, req: IngestRequest): Promise<void> {
  const ref = `crib-pull-${req.digest}-${randomBytes(4).toString("hex")}`;
  const call = cd.content.write({ lease: req.lease, timeoutMs: 0, signal: req.signal });
  const replies = call[Symbol.asyncIterator]();
  const roundTrip = async (msg: Parameters<typeof call.write>[0]) => {
    call.write(msg);
    const r = await replies.next();
    if (r.done) throw new Error("containerd closed the content write stream");
    return r.value;
  };
  const onAbort = () => call.cancel();
  req.signal.addEventListener("abort", onAbort, { once: true });
  let offset = 0n;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await roundTrip({ action: WriteAction.WRITE, ref, offset, total: BigInt(req.size), expected: req.digest, data: chunk });
    offset += BigInt(chunk.length);
    req.onProgress?.(Number(offset));
  };
  try {
    for await (const piece of data) {
      pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      pendingBytes += piece.byteLength;
      if (pendingBytes >= WRITE_CHUNK) await flush();
    }
    await flush();
    await roundTrip({ action: WriteAction.COMMIT, ref, offset, total: BigInt(req.size), expected: req.digest, labels: req.labels });
    call.end();
    // Read to the end: the call is over (and traced) only once containerd closes its side.
    while (!(await replies.next()).done);
  } catch (e) {
    call.cancel();
    if (isAlreadyExists(e)) return;
    throw wrap(e, `failed to write content ${req.digest}`);
  } finally {
    req.signal.removeEventListener("abort", onAbort);
  }
}

/** Adds labels to a blob already in the store (GC references set after the fact). */
export async function labelContent(cd: Containerd, digest: string, labels: Record<string, string>): Promise<void> {
  const keys = Object.keys(labels);
  if (keys.length === 0) return;
  try {
    await cd.content.update({ info: { digest, labels }, updateMask: { paths: keys.map((k) => `labels.${k}`) } });
  } catch (e) {
    throw wrap(e, `failed to label content ${digest}`);
  }
}
