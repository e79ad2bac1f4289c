// The pause container's metadata extension, in the exact shape containerd's CRI writes
// ({"Version":"v1","Metadata":{...}} under a registered type URL), so each can read pods
// the other made.
import type { Any } from "@bufbuild/protobuf/wkt";
import type { ExactJsonValue as JsonValue } from "../containerd/exact-json.js";
import { PodSandboxConfigSchema } from "../gen/runtime/v1/api_pb.js";
import { jsonAny, parseJsonAny } from "../containerd/any.js";
import { messageFromGo, messageToGo } from "../containerd/go-json.js";
import type { SandboxMetadata } from "./sandbox-store.js";

/** Extension key on the pause container (containerd: crilabels.SandboxMetadataExtension). */
export const SANDBOX_METADATA_EXTENSION = "io.cri-containerd.sandbox.metadata";
/** Extension key on the Sandbox Store record (containerd: podsandbox.MetadataKey). */
export const SANDBOX_STORE_METADATA_KEY = "metadata";
export const SANDBOX_METADATA_TYPE_URL = "github.com/containerd/cri/pkg/store/sandbox/Metadata";

interface GoSandboxMetadata {
  ID: string;
  Name: string;
  Config?: JsonValue;
  NetNSPath?: string;
  IP?: string;
  AdditionalIPs?: string[] | null;
  RuntimeHandler?: string;
  CNIResult?: unknown;
  ProcessLabel?: string;
}

export function encodeSandboxMetadata(m: SandboxMetadata): Any {
  const go: GoSandboxMetadata = {
    ID: m.id,
    Name: m.name,
    Config: messageToGo(PodSandboxConfigSchema, m.config as unknown as Record<string, unknown>),
    NetNSPath: m.netnsPath,
    IP: m.ip,
    AdditionalIPs: m.additionalIps.length ? m.additionalIps : null,
    RuntimeHandler: m.runtimeHandler,
    CNIResult: m.cniResult ?? null,
    ProcessLabel: m.processLabel,
  };
  return jsonAny(SANDBOX_METADATA_TYPE_URL, { Version: "v1", Metadata: go });
}

export function decodeSandboxMetadata(any: Any | undefined): SandboxMetadata | undefined {
  const v = parseJsonAny<{ Version: string; Metadata: GoSandboxMetadata }>(any, SANDBOX_METADATA_TYPE_URL);
  if (!v || v.Version !== "v1" || !v.Metadata) return undefined;
  const g = v.Metadata;
  return {
    id: g.ID,
    name: g.Name,
    config: messageFromGo(PodSandboxConfigSchema, g.Config ?? {}),
    netnsPath: g.NetNSPath ?? "",
    ip: g.IP ?? "",
    additionalIps: g.AdditionalIPs ?? [],
    runtimeHandler: g.RuntimeHandler ?? "",
    cniResult: g.CNIResult ?? null,
    processLabel: g.ProcessLabel ?? "",
  };
}

/** name_namespace_uid_attempt, as containerd's makeSandboxName. */
export function makeSandboxName(md: { name: string; namespace: string; uid: string; attempt: number }): string {
  return [md.name, md.namespace, md.uid, String(md.attempt)].join("_");
}
