// CheckpointContainer: a running container's process state dumped by CRIU through
// Tasks.Checkpoint (runc's checkpoint, the container keeps running), packed with its spec,
// its CRI config and its rootfs changes into the tar archive the kubelet asked for (the
// layout checkpointctl and CRI-O's restore read: checkpoint/, spec.dump, config.dump,
// rootfs-diff.tar). Without CRIU on the host the RPC says so with UNIMPLEMENTED, the code
// the kubelet reports as "checkpointing not supported".
import { access, constants, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { CheckpointOptionsSchema } from "../gen/github.com/containerd/containerd/api/types/runc/options/oci_pb.js";
import { ContainerConfigSchema, ContainerState } from "../gen/runtime/v1/api_pb.js";
import { protoAny } from "../containerd/any.js";
import { messageToGo } from "../containerd/go-json.js";
import { failedPrecondition, internal, invalidArgument, unimplemented, wrap } from "../errors.js";
import { describeExit, runCommand } from "../network/run-command.js";
import type { Container } from "../store/container-store.js";
import type { RuntimeHandlers } from "./deps.js";
import type { ContainerContext } from "./container-context.js";
import { stringifyExact } from "../containerd/exact-json.js";
import { secondsToTimeoutMs, timerDelay } from "../timer-limit.js";

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

async function tar(args: string[], what: string): Promise<void> {
  const r = await runCommand("tar", args, { timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw internal(`failed to ${what}: tar ${describeExit(r)}: ${r.stderr.trim()}`);
}

async function writeDumps(dir: string, c: Container): Promise<void> {
  await writeFile(join(dir, "spec.dump"), stringifyExact(c.record.spec));
  // checkpointctl's ContainerConfig keys.
  await writeFile(
    join(dir, "config.dump"),
    stringifyExact({
      id: c.id,
      name: c.meta.name,
      rootfsImage: c.meta.imageName,
      rootfsImageRef: c.meta.imageRef,
      rootfsImageName: c.meta.config.image?.image ?? "",
      runtime: c.record.runtimeType,
      createdTime: new Date(Number(c.status.createdAt / 1_000_000n)).toISOString(),
      checkpointedTime: new Date().toISOString(),
      criConfig: messageToGo(ContainerConfigSchema, c.meta.config as unknown as Record<string, unknown>),
    }),
  );
}

export function checkpointContainer(ctx: ContainerContext): RuntimeHandlers["checkpointContainer"] {
  const cd = ctx.deps.containerd;
  return async (req) => {
    if (!(await findOnPath("criu"))) throw unimplemented(CRIU_MISSING);
    const c = ctx.containers.get(req.containerId);
    if (c.state !== ContainerState.CONTAINER_RUNNING) throw failedPrecondition(`container "${c.id}" is not running: only a running container can be checkpointed`);
    if (!req.location || !isAbsolute(req.location)) throw invalidArgument(`checkpoint location must be an absolute path of the archive to write, got ${JSON.stringify(req.location)}`);
    // 0: no deadline, also for a timeout past Node's timer limit.
    const timeoutMs = timerDelay(secondsToTimeoutMs(req.timeout)) ?? 0;

    await mkdir(ctx.deps.config.stateDir, { recursive: true });
    const work = await mkdtemp(join(ctx.deps.config.stateDir, `checkpoint-${c.id.slice(0, 12)}-`));
    try {
      await cd.tasks
        .checkpoint(
          {
            containerId: c.id,
            options: protoAny(CheckpointOptionsSchema, { exit: false, fileLocks: true, imagePath: join(work, "checkpoint"), workPath: join(work, "criu-work") }),
          },
          { timeoutMs },
        )
        .catch((e) => {
          throw wrap(e, `failed to checkpoint container "${c.id}"`);
        });
      await writeDumps(work, c);
      const entries = ["checkpoint", "spec.dump", "config.dump"];
      const { mounts } = await cd.snapshots.mounts({ snapshotter: c.record.snapshotter, key: c.record.snapshotKey });
      const upper = overlayUpperDir(mounts);
      if (upper) {
        await tar(["-cf", join(work, "rootfs-diff.tar"), "-C", upper, "."], "archive the container's rootfs changes");
        entries.push("rootfs-diff.tar");
      }
      await tar(["-cf", req.location, "-C", work, ...entries], `write the checkpoint archive ${req.location}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return {};
  };
}
