// The run lease of RunPodSandbox and CreateContainer: `crib-run-<id>` keeps the fresh
// rootfs snapshot from containerd's GC until the container holds it. One helper makes it,
// runs the step that needs it and releases it, the same way for both RPCs.
import type { Containerd } from "./client.js";

export const RUN_LEASE_PREFIX = "crib-run-";
/** A lease a crash leaves behind expires by itself after this (and crib's start-up sweep removes it). */
const RUN_LEASE_EXPIRY_MS = 3600_000;

export interface RunLease {
  /** The lease id, for the `containerd-lease` of the calls that make what it protects. */
  readonly id: string;
  /** Resolves once containerd has made the lease (the step awaits it before using the lease). */
  readonly ready: Promise<unknown>;
}

/**
 * Makes the run lease for `id` and runs step with it; the lease creation is sent first, and
 * step starts at once (it may do other work while the lease is made). Afterwards the lease
 * is released: on success without waiting (the container holds the snapshot now), on
 * failure waited for (the caller must find nothing left). A lease that could not be made
 * is not released.
 */
export async function withRunLease<T>(leases: Containerd["leases"], id: string, step: (lease: RunLease) => Promise<T>): Promise<T> {
  const lease = `${RUN_LEASE_PREFIX}${id}`;
  const ready = leases.create({ id: lease, labels: { "containerd.io/gc.expire": new Date(Date.now() + RUN_LEASE_EXPIRY_MS).toISOString() } });
  let made = false;
  ready.then(
    () => (made = true),
    () => undefined,
  );
  const release = () => leases.delete({ id: lease, sync: false }).catch(() => undefined);
  let ok = false;
  try {
    const out = await step({ id: lease, ready });
    ok = true;
    return out;
  } finally {
    // Both callers await `ready` in step, so it has settled by now; if a step did not, the
    // release follows the creation.
    const released = made ? release() : ready.then(release, () => undefined);
    if (!ok) await released;
  }
}
