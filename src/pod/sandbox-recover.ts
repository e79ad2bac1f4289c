// Rebuilds the pod store from containerd at start (pause containers carry their metadata),
// and sweeps what a crash in the middle of RunPodSandbox may have left: Sandbox Store
// records without a container (their network is torn down), pinned netns files and
// sandbox dirs nobody owns, and run leases.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Status as TaskStatus } from "../gen/github.com/containerd/containerd/api/types/task/task_pb.js";
import { isNotFound, messageOf } from "../errors.js";
import { timestampNs } from "../clock.js";
import { removeNetns } from "../network/netns.js";
import type { Sandbox } from "./sandbox-store.js";
import type { CriDeps } from "../common/deps.js";
import type { PodState } from "./pod-state.js";
import { detachPodNetwork, netnsDir } from "./sandbox-network.js";
import { cleanupSandboxFiles, sandboxPaths } from "./sandbox-files.js";
import { decodeSandboxMetadata, SANDBOX_METADATA_EXTENSION, SANDBOX_STORE_METADATA_KEY } from "./sandbox-metadata.js";
import { KIND_LABEL, KIND_SANDBOX } from "../common/labels.js";
import { readRunRecord } from "./sandbox-run-record.js";
import { deleteTask } from "../containerd/task-ops.js";
import { RUN_LEASE_PREFIX } from "../containerd/run-lease.js";

/** The task state of a container: its pid when running, else 0 (and a stopped task is deleted). */
export async function runningPid(deps: CriDeps, id: string): Promise<number> {
  try {
    const t = await deps.containerd.tasks.get({ containerId: id });
    if (t.process?.status === TaskStatus.RUNNING) return t.process.pid;
    await deleteTask(deps.containerd, id);
    return 0;
  } catch (e) {
    if (isNotFound(e)) return 0;
    throw e;
  }
}

export async function recoverSandboxes(deps: CriDeps, state: PodState): Promise<void> {
  const { containerd: cd, logger } = deps;
  const res = await cd.containers.list({ filters: [`labels."${KIND_LABEL}"==${KIND_SANDBOX}`] });
  for (const c of res.containers) {
    const meta = decodeSandboxMetadata(c.extensions[SANDBOX_METADATA_EXTENSION]);
    if (!meta) {
      logger.warn("skipping sandbox container without readable metadata", { podSandboxId: c.id });
      continue;
    }
    const pid = await runningPid(deps, c.id);
    const created = c.createdAt;
    const s: Sandbox = {
      meta,
      state: pid > 0 ? "ready" : "notready",
      createdAt: timestampNs(created) ?? 0n,
      pid,
      imageId: state.images.resolve(c.image)?.id ?? "",
      runtimeType: c.runtime?.name ?? "",
      stopping: false,
    };
    state.sandboxes.add(s);
  }
  await sweepLeftovers(deps, state).catch((e) => logger.warn("start-up sweep failed", { error: messageOf(e) }));
  logger.info("recovered sandboxes", { count: state.sandboxes.list().length });
}

async function sweepLeftovers(deps: CriDeps, state: PodState): Promise<void> {
  const { containerd: cd, config, logger } = deps;
  const known = new Set(state.sandboxes.list().map((s) => s.meta.id));
  const netnsInUse = new Set(state.sandboxes.list().map((s) => s.meta.netnsPath));

  if (deps.capabilities.sandboxStore) {
    const records = await cd.sandboxStore.list({ filters: [] });
    for (const r of records.list) {
      if (known.has(r.sandboxId)) continue;
      const meta = decodeSandboxMetadata(r.extensions[SANDBOX_STORE_METADATA_KEY]);
      logger.info("cleaning up sandbox left by an interrupted RunPodSandbox", { podSandboxId: r.sandboxId });
      if (meta?.netnsPath) {
        await detachPodNetwork(config, meta).catch((e) => logger.warn("CNI teardown of leftover failed", { podSandboxId: r.sandboxId, error: messageOf(e) }));
        await removeNetns(meta.netnsPath).catch(() => undefined);
      }
      await cleanupSandboxFiles(sandboxPaths(config.rootDir, config.stateDir, r.sandboxId, false));
      await cd.sandboxStore.delete({ sandboxId: r.sandboxId }).catch(() => undefined);
    }
  }

  for (const base of [join(config.rootDir, "sandboxes"), join(config.stateDir, "sandboxes")]) {
    for (const id of await readdir(base).catch(() => [] as string[])) {
      if (known.has(id)) continue;
      const paths = sandboxPaths(config.rootDir, config.stateDir, id, false);
      // containerd 1.6 (no Sandbox Store): the run record names the network to undo.
      const meta = base === join(config.rootDir, "sandboxes") ? await readRunRecord(paths.rootDir) : undefined;
      if (meta?.netnsPath) {
        logger.info("cleaning up sandbox left by an interrupted RunPodSandbox", { podSandboxId: id });
        await detachPodNetwork(config, meta).catch((e) => logger.warn("CNI teardown of leftover failed", { podSandboxId: id, error: messageOf(e) }));
        await removeNetns(meta.netnsPath).catch(() => undefined);
      }
      await cleanupSandboxFiles(paths);
    }
  }
  const dir = netnsDir(config);
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, f);
    if (f.startsWith("cni-") && !netnsInUse.has(p)) {
      logger.info("removing orphaned network namespace", { netns: p });
      await removeNetns(p).catch(() => undefined);
    }
  }
  // A run lease (RunPodSandbox or CreateContainer) that outlived its RPC may hold a rootfs
  // snapshot (key = the id) that never got its container: remove it now rather than leave
  // it to a later GC. A container that does exist owns its snapshot: leave that alone.
  const leases = await cd.leases.list({ filters: [] });
  for (const l of leases.leases) {
    // A client-side pull's lease (image/client-pull.ts) whose crib died: its content and
    // half-unpacked snapshots belong to no image, so GC may take them at once.
    if (l.id.startsWith("crib-pull-")) {
      await cd.leases.delete({ id: l.id, sync: true }).catch(() => undefined);
      continue;
    }
    if (!l.id.startsWith(RUN_LEASE_PREFIX)) continue;
    const id = l.id.slice(RUN_LEASE_PREFIX.length);
    const orphan = await cd.containers.get({ id }).then(
      () => false,
      (e: unknown) => isNotFound(e),
    );
    if (orphan) await cd.snapshots.remove({ snapshotter: config.snapshotter, key: id }).catch(() => undefined);
    await cd.leases.delete({ id: l.id, sync: true }).catch(() => undefined);
  }
}
