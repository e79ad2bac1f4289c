// CheckpointContainer: a running container's process state dumped by CRIU through
// Tasks.Checkpoint (runc's checkpoint, the container keeps running), packed with its spec,
// config, status and rootfs changes into the tar archive the kubelet asked for (layout in
// checkpoint-archive.ts). Without CRIU on the host the RPC says so with UNIMPLEMENTED, the
// code the kubelet reports as "checkpointing not supported"; where CRIU cannot work
// (`criu check` fails) or the dump fails, FAILED_PRECONDITION with CRIU's own reason.
import { create } from "@bufbuild/protobuf";
import { access, constants, copyFile, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { CheckpointOptionsSchema } from "../gen/github.com/containerd/containerd/api/types/runc/options/oci_pb.js";
import { ContainerState, ContainerStatusSchema } from "../gen/runtime/v1/api_pb.js";
import { protoAny } from "../containerd/any.js";
import { messageToGo } from "../containerd/go-json.js";
import { failedPrecondition, invalidArgument, unimplemented, wrap } from "../errors.js";
import type { Container, ContainerStore } from "../container/container-store.js";
import type { CriDeps, ImageProvider, RuntimeHandlers } from "../common/deps.js";
import { ARCHIVE, configDump, tarDirectory, writeArchive, writeDumpFiles } from "./checkpoint-archive.js";
import { criContainerStatus } from "../container/container-status.js";
import { criuCheck, dumpLogReason } from "./criu-reason.js";
import { secondsToTimeoutMs, timerDelay } from "../timer-limit.js";

/** What CheckpointContainer reads: the container store and the images (for the status it writes). */
export interface CheckpointContext {
  deps: CriDeps;
  containers: ContainerStore;
  images: ImageProvider;
}

/** The first executable `name` on PATH (runc finds criu the same way). */
export async function findOnPath(name: string, path = process.env["PATH"] ?? ""): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const CRIU_MISSING =
  "CheckpointContainer needs CRIU, which is not installed on this host (no criu on PATH); install Debian's criu package to checkpoint containers";

/** The upper directory of an overlay rootfs: the container's own changes. */
export function overlayUpperDir(mounts: { type: string; options: string[] }[]): string | undefined {
  const overlay = mounts.find((m) => m.type === "overlay");
  return overlay?.options.find((o) => o.startsWith("upperdir="))?.slice("upperdir=".length);
}

/** Tasks.Checkpoint with the container left running; CRIU's own reason when it fails. */
async function dumpTask(ctx: CheckpointContext, id: string, work: string, timeoutMs: number): Promise<void> {
  const criuWork = join(work, "criu-work");
  await ctx.deps.containerd.tasks
    .checkpoint(
      {
        containerId: id,
        options: protoAny(CheckpointOptionsSchema, { exit: false, fileLocks: true, imagePath: join(work, ARCHIVE.checkpointDir), workPath: criuWork }),
      },
      { timeoutMs },
    )
    .catch(async (e: unknown) => {
      // runc reports only "criu failed ... log file: <work>/dump.log", a file removed below.
      const reason = await dumpLogReason(join(criuWork, ARCHIVE.dumpLog));
      if (reason) throw failedPrecondition(`checkpointing container "${id}" failed: criu: ${reason}`);
      throw wrap(e, `checkpointing container "${id}" failed`);
    });
  for (const f of [ARCHIVE.dumpLog, ARCHIVE.stats]) await copyFile(join(criuWork, f), join(work, f)).catch(() => undefined);
}

async function writeRootfsDiff(ctx: CheckpointContext, c: Container, work: string): Promise<void> {
  const { mounts } = await ctx.deps.containerd.snapshots.mounts({ snapshotter: c.record.snapshotter, key: c.record.snapshotKey });
  const upper = overlayUpperDir(mounts);
  if (upper) await tarDirectory(upper, join(work, ARCHIVE.rootfsDiff));
}

async function checkRequest(ctx: CheckpointContext, containerId: string, location: string): Promise<{ c: Container; criu: string }> {
  const criu = await findOnPath("criu");
  if (!criu) throw unimplemented(CRIU_MISSING);
  const c = ctx.containers.get(containerId);
  if (c.state !== ContainerState.CONTAINER_RUNNING) throw failedPrecondition(`container "${c.id}" is not running: only a running container can be checkpointed`);
  if (!location || !isAbsolute(location)) throw invalidArgument(`checkpoint location must be an absolute path of the archive to write, got ${JSON.stringify(location)}`);
  const dir = await stat(dirname(location)).catch(() => undefined);
  if (!dir?.isDirectory()) throw invalidArgument(`checkpoint location ${location}: directory ${dirname(location)} does not exist`);
  return { c, criu };
}

export function checkpointContainer(ctx: CheckpointContext): RuntimeHandlers["checkpointContainer"] {
  return async (req) => {
    const { c, criu } = await checkRequest(ctx, req.containerId, req.location);
    // containerd's CRI only checks criu's version and answers a failed dump with UNKNOWN and
    // a log path on the node; crib asks `criu check` first and answers FAILED_PRECONDITION
    // with CRIU's own words, before the container is frozen at all.
    const unsupported = await criuCheck(criu);
    if (unsupported) throw failedPrecondition(`CRIU cannot checkpoint on this host (criu check failed): ${unsupported}`);
    // 0: no deadline, also for a timeout past Node's timer limit.
    const timeoutMs = timerDelay(secondsToTimeoutMs(req.timeout)) ?? 0;

    await mkdir(ctx.deps.config.stateDir, { recursive: true });
    const work = await mkdtemp(join(ctx.deps.config.stateDir, `checkpoint-${c.id.slice(0, 12)}-`));
    try {
      await dumpTask(ctx, c.id, work, timeoutMs);
      const status = criContainerStatus(c, ctx.images.resolve(c.meta.imageRef));
      await writeDumpFiles(work, {
        spec: c.record.spec,
        config: configDump({
          id: c.id,
          name: c.meta.name,
          image: status.image?.image ?? "",
          imageRef: status.imageRef ?? "",
          runtime: c.record.runtimeType,
          createdAtNs: c.status.createdAt,
          checkpointedAt: new Date(),
        }),
        status: messageToGo(ContainerStatusSchema, create(ContainerStatusSchema, status) as unknown as Record<string, unknown>),
      });
      await writeRootfsDiff(ctx, c, work);
      await writeArchive(work, req.location);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return {};
  };
}
