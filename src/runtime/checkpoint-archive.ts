// The checkpoint archive CheckpointContainer writes, in the layout containerd's CRI writes
// and checkpointctl (and containerd's or CRI-O's restore) reads: CRIU's images under
// checkpoint/, the OCI spec (spec.dump), checkpointctl's ContainerConfig (config.dump), the
// CRI ContainerStatus (status.dump), the container's rootfs changes (rootfs-diff.tar) and
// CRIU's dump.log / stats-dump when there are. The archive is written next to the requested
// location and renamed into place, so a failure never leaves a half-written archive.
import { stringifyExact } from "../containerd/exact-json.js";
import { randomBytes } from "node:crypto";
import { access, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { internal } from "../errors.js";
import { describeExit, runCommand } from "../io/run-command.js";

/** Entry names, as checkpointctl's lib constants. */
export const ARCHIVE = {
  checkpointDir: "checkpoint",
  spec: "spec.dump",
  config: "config.dump",
  status: "status.dump",
  rootfsDiff: "rootfs-diff.tar",
  dumpLog: "dump.log",
  stats: "stats-dump",
} as const;

/** checkpointctl's lib.ContainerConfig, with its JSON keys. */
export interface CheckpointConfigDump {
  id: string;
  name: string;
  rootfsImage?: string;
  rootfsImageRef?: string;
  rootfsImageName?: string;
  runtime?: string;
  createdTime: string;
  checkpointedTime: string;
}

export interface ConfigDumpInput {
  id: string;
  /** containerd's container name (name_pod_namespace_uid_attempt). */
  name: string;
  /** ContainerStatus.image.image and .image_ref, as containerd fills them. */
  image: string;
  imageRef: string;
  /** containerd runtime type (io.containerd.runc.v2). */
  runtime: string;
  createdAtNs: bigint;
  checkpointedAt: Date;
}

const rfc3339 = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

/** config.dump as containerd's CheckpointContainer fills it (omitempty fields left out when empty). */
export function configDump(i: ConfigDumpInput): CheckpointConfigDump {
  const d: CheckpointConfigDump = { id: i.id, name: i.name, createdTime: rfc3339(i.createdAtNs), checkpointedTime: i.checkpointedAt.toISOString() };
  if (i.image) {
    d.rootfsImage = i.image;
    d.rootfsImageName = i.image;
  }
  if (i.imageRef) d.rootfsImageRef = i.imageRef;
  if (i.runtime) d.runtime = i.runtime;
  return d;
}

export interface ArchiveFiles {
  spec: unknown;
  config: CheckpointConfigDump;
  /** The CRI ContainerStatus in Go's JSON shape. */
  status: unknown;
}

/** Writes the three dump files into the work dir. */
export async function writeDumpFiles(work: string, f: ArchiveFiles): Promise<void> {
  await writeFile(join(work, ARCHIVE.spec), stringifyExact(f.spec), { mode: 0o600 });
  await writeFile(join(work, ARCHIVE.config), stringifyExact(f.config), { mode: 0o600 });
  await writeFile(join(work, ARCHIVE.status), stringifyExact(f.status), { mode: 0o600 });
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** The entries of the work dir that go into the archive, in archive order; checkpoint/ and the dumps are required. */
export async function archiveEntries(work: string): Promise<string[]> {
  const required = [ARCHIVE.checkpointDir, ARCHIVE.spec, ARCHIVE.config, ARCHIVE.status];
  for (const r of required) if (!(await exists(join(work, r)))) throw internal(`checkpoint work dir lacks ${r}`);
  const optional: string[] = [];
  for (const o of [ARCHIVE.rootfsDiff, ARCHIVE.dumpLog, ARCHIVE.stats]) if (await exists(join(work, o))) optional.push(o);
  return [...required, ...optional];
}

async function tar(args: string[], what: string): Promise<void> {
  const r = await runCommand("tar", args, { timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw internal(`failed to ${what}: tar ${describeExit(r)}: ${r.stderr.trim()}`);
}

/** tar of a directory's contents (the overlay upper dir → rootfs-diff.tar). */
export function tarDirectory(dir: string, into: string): Promise<void> {
  return tar(["-cf", into, "-C", dir, "."], "archive the container's rootfs changes");
}

/** The archive, written beside `location` and renamed onto it: all or nothing. */
export async function writeArchive(work: string, location: string): Promise<void> {
  const entries = await archiveEntries(work);
  const tmp = join(dirname(location), `.${basename(location)}.crib-${randomBytes(4).toString("hex")}`);
  try {
    await tar(["-cf", tmp, "-C", work, ...entries], `write the checkpoint archive ${location}`);
    await rename(tmp, location);
  } finally {
    await rm(tmp, { force: true });
  }
}
