// Where containerd has no Sandbox Store (1.6), the record a crash in the middle of
// RunPodSandbox leaves behind: the pod's metadata in <root>/sandboxes/<id>/run-record.json,
// written before CNI ADD. The start-up sweep reads it to tear down an allocation whose pod
// never got its pause container. containerd 1.6's own CRI leaks that address; crib does not.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SandboxMetadata } from "./sandbox-store.js";
import { decodeSandboxMetadata, encodeSandboxMetadata, SANDBOX_METADATA_TYPE_URL } from "./sandbox-metadata.js";
import { create } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";

const FILE = "run-record.json";

export async function writeRunRecord(sandboxRootDir: string, meta: SandboxMetadata): Promise<void> {
  await mkdir(sandboxRootDir, { recursive: true, mode: 0o755 });
  await writeFile(join(sandboxRootDir, FILE), encodeSandboxMetadata(meta).value, { mode: 0o600 });
}

/** The metadata of an interrupted RunPodSandbox, or undefined when there is none (or it is unreadable). */
export async function readRunRecord(sandboxRootDir: string): Promise<SandboxMetadata | undefined> {
  const bytes = await readFile(join(sandboxRootDir, FILE)).catch(() => undefined);
  if (!bytes) return undefined;
  try {
    return decodeSandboxMetadata(create(AnySchema, { typeUrl: SANDBOX_METADATA_TYPE_URL, value: bytes }));
  } catch {
    return undefined;
  }
}

export async function removeRunRecord(sandboxRootDir: string): Promise<void> {
  await rm(join(sandboxRootDir, FILE), { force: true });
}
