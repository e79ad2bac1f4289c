// How a container is recorded outside crib's memory, in containerd's CRI shapes so that
// each can read the other's containers: the metadata extension on the containerd container
// ({"Version":"v1","Metadata":{...}} under a registered type URL), the labels, and the
// status checkpoint file <root_dir>/containers/<id>/status (exit codes must survive a
// restart even after the task is gone).
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { ExactJsonValue as JsonValue } from "../containerd/exact-json.js";
import { ContainerConfigSchema, ContainerResourcesSchema, type ContainerMetadata as CriContainerMetadata, type PodSandboxMetadata } from "../gen/runtime/v1/api_pb.js";
import { jsonAny, parseJsonAny } from "../containerd/any.js";
import { messageFromGo, messageToGo } from "../containerd/go-json.js";
import { newStatus, type ContainerMetadata, type ContainerStatus, type StatusPersister } from "./container-store.js";
import type { Logger } from "../log.js";
import { messageOf } from "../errors.js";
import { KIND_CONTAINER, KIND_LABEL } from "../common/labels.js";
import { parseExact, stringifyExact } from "../containerd/exact-json.js";

/** Extension key on the containerd container (containerd: crilabels.ContainerMetadataExtension). */
export const CONTAINER_METADATA_EXTENSION = "io.cri-containerd.container.metadata";
export const CONTAINER_METADATA_TYPE_URL = "github.com/containerd/cri/pkg/store/container/Metadata";

interface GoContainerMetadata {
  ID: string;
  Name: string;
  SandboxID: string;
  Config: JsonValue | null;
  ImageRef: string;
  ImageDigest?: string;
  ImageName?: string;
  LogPath: string;
  StopSignal: string;
  ProcessLabel: string;
}

export function encodeContainerMetadata(m: ContainerMetadata): Any {
  const go: GoContainerMetadata = {
    ID: m.id,
    Name: m.name,
    SandboxID: m.sandboxId,
    Config: messageToGo(ContainerConfigSchema, m.config as unknown as Record<string, unknown>),
    ImageRef: m.imageRef,
    ImageName: m.imageName,
    LogPath: m.logPath,
    StopSignal: m.stopSignal,
    ProcessLabel: m.processLabel,
  };
  return jsonAny(CONTAINER_METADATA_TYPE_URL, { Version: "v1", Metadata: go });
}

export function decodeContainerMetadata(any: Any | undefined): ContainerMetadata | undefined {
  const v = parseJsonAny<{ Version: string; Metadata: GoContainerMetadata }>(any, CONTAINER_METADATA_TYPE_URL);
  if (!v || v.Version !== "v1" || !v.Metadata) return undefined;
  const g = v.Metadata;
  return {
    id: g.ID,
    name: g.Name,
    sandboxId: g.SandboxID,
    config: messageFromGo(ContainerConfigSchema, g.Config ?? {}),
    imageRef: g.ImageRef ?? "",
    imageName: g.ImageName ?? "",
    logPath: g.LogPath ?? "",
    stopSignal: g.StopSignal ?? "",
    processLabel: g.ProcessLabel ?? "",
  };
}

/** containerd's makeContainerName: container_pod_namespace_uid_attempt. */
export function makeContainerName(c: Pick<CriContainerMetadata, "name" | "attempt">, s: Pick<PodSandboxMetadata, "name" | "namespace" | "uid">): string {
  return [c.name, s.name, s.namespace, s.uid, String(c.attempt)].join("_");
}

/** Label keys and values containerd accepts (labels.Validate: key + value within 4096 bytes). */
const MAX_LABEL = 4096;

/**
 * The container's labels (containerd's BuildLabels): the image's (those too long are
 * dropped), then the CRI config's over them, then the kind.
 */
export function containerLabels(configLabels: Record<string, string>, imageLabels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(imageLabels ?? {})) if (Buffer.byteLength(k) + Buffer.byteLength(v) <= MAX_LABEL) out[k] = v;
  Object.assign(out, configLabels);
  out[KIND_LABEL] = KIND_CONTAINER;
  return out;
}

/** Persistent (status checkpoint, image volumes) and volatile (FIFOs) dirs of a container. */
export function containerDirs(rootDir: string, stateDir: string, id: string): { root: string; volatile: string; io: string } {
  const volatile = join(stateDir, "containers", id);
  return { root: join(rootDir, "containers", id), volatile, io: join(volatile, "io") };
}

// --- status checkpoint ---------------------------------------------------------------

const TIME_KEYS = ["CreatedAt", "StartedAt", "FinishedAt"] as const;

/**
 * The status file in containerd's shape ({"Version":"v1", Pid, CreatedAt, ...}). The
 * nanosecond timestamps exceed 2^53, so they are written as exact integers by hand.
 */
export function encodeStatusCheckpoint(s: Readonly<ContainerStatus>): string {
  const times: Record<string, string> = {
    CreatedAt: s.createdAt.toString(),
    StartedAt: s.startedAt.toString(),
    FinishedAt: s.finishedAt.toString(),
  };
  const body = {
    Version: "v1",
    Pid: s.pid,
    CreatedAt: "@CreatedAt",
    StartedAt: "@StartedAt",
    FinishedAt: "@FinishedAt",
    ExitCode: s.exitCode,
    Reason: s.reason,
    Message: s.message,
    Resources: s.resources ? messageToGo(ContainerResourcesSchema, s.resources as unknown as Record<string, unknown>) : null,
  };
  return stringifyExact(body).replace(/"@(CreatedAt|StartedAt|FinishedAt)"/g, (_, k: string) => times[k]!);
}

export function decodeStatusCheckpoint(text: string): ContainerStatus {
  // Quote the big integers before JSON.parse turns them into lossy doubles.
  const quoted = text.replace(new RegExp(`"(${TIME_KEYS.join("|")})"\\s*:\\s*(-?\\d+)`, "g"), '"$1":"$2"');
  const v = parseExact(quoted) as Record<string, JsonValue>;
  if (v["Version"] !== "v1") throw new Error(`unsupported status version ${JSON.stringify(v["Version"])}`);
  const big = (k: string) => BigInt((v[k] as string | undefined) ?? "0");
  const s = newStatus(big("CreatedAt"));
  s.pid = Number(v["Pid"] ?? 0);
  s.startedAt = big("StartedAt");
  s.finishedAt = big("FinishedAt");
  s.exitCode = Number(v["ExitCode"] ?? 0);
  s.reason = String(v["Reason"] ?? "");
  s.message = String(v["Message"] ?? "");
  const res = v["Resources"];
  s.resources = res ? messageFromGo(ContainerResourcesSchema, res as JsonValue) : undefined;
  return s;
}

/** The status checkpoint file in a container's root dir. */
export const statusPath = (rootDir: string): string => join(rootDir, "status");

/** Writes the checkpoint atomically (temp file + rename), as continuity.AtomicWriteFile. */
export async function writeStatusCheckpoint(containerRootDir: string, s: Readonly<ContainerStatus>): Promise<void> {
  const path = statusPath(containerRootDir);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, encodeStatusCheckpoint(s), { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * The container store's persister: each container's checkpoint under
 * <root_dir>/containers/<id>. A failed write after an update is logged: the in-memory
 * state is already the truth, and the next change rewrites the file.
 */
export function statusCheckpointer(rootDir: string, stateDir: string, logger: Logger): StatusPersister {
  return {
    write: (id, status) => writeStatusCheckpoint(containerDirs(rootDir, stateDir, id).root, status),
    failed: (id, error) => logger.warn("failed to checkpoint container status", { containerId: id, error: messageOf(error) }),
  };
}

export async function readStatusCheckpoint(containerRootDir: string): Promise<ContainerStatus> {
  return decodeStatusCheckpoint(await readFile(statusPath(containerRootDir), "utf8"));
}
