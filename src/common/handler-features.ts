// What each runtime handler supports (Status.runtime_handlers[].features), learnt once at
// start as containerd's CRI does (introspectRuntimeHandlers): containerd's
// Introspection.PluginInfo runs the handler's shim with `-info`, which reports the OCI
// runtime's features document (`runc features`); the decision itself is a pure function
// of that document and the kernel release.
import { release } from "node:os";
import type { Config, RuntimeHandlerConfig } from "../config.js";
import type { Containerd } from "../containerd/client.js";
import { protoAny, unpackAny } from "../containerd/any.js";
import { runtimeOptionsAny } from "../containerd/runtime-options.js";
import { messageOf } from "../errors.js";
import { RuntimeInfoSchema, RuntimeRequestSchema } from "../gen/github.com/containerd/containerd/api/types/introspection_pb.js";
import type { Logger } from "../log.js";
import { kernelAtLeast } from "../oci/spec-host-facts.js";

/** The part of the OCI features document (runtime-spec features.md) the decisions read. */
export interface OciFeatures {
  mountOptions?: readonly string[] | undefined;
}

/** RuntimeHandlerFeatures as Status advertises it. */
export interface HandlerFeatures {
  recursiveReadOnlyMounts: boolean;
  userNamespaces: boolean;
}

/** Features by configured runtime name (the keys of config.runtimes). */
export type HandlerFeatureMap = Readonly<Record<string, HandlerFeatures>>;

export const NO_HANDLER_FEATURES: Readonly<HandlerFeatures> = { recursiveReadOnlyMounts: false, userNamespaces: false };

/** Only this runtime type answers PluginInfo with a features document (containerd checks the same). */
const RUNC_V2 = "io.containerd.runc.v2";
const TASK_PLUGIN = { type: "io.containerd.runtime.v2", id: "task" };

/** The features document's JSON, or undefined when it is not one (then nothing is claimed). */
export function parseOciFeatures(json: string): OciFeatures | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const opts = (raw as Record<string, unknown>)["mountOptions"];
  return { mountOptions: Array.isArray(opts) ? opts.filter((o): o is string => typeof o === "string") : [] };
}

/**
 * Recursive read-only mounts need mount_setattr(2) (Linux 5.12) and a runtime that knows
 * the "rro" mount option (runc 1.1+); a runtime without a features document claims
 * nothing. User namespaces stay false: crib does not offer them (containerd also wants
 * idmap mounts, which bookworm's runc 1.1 lacks).
 */
export function handlerFeatures(kernelRelease: string, features: OciFeatures | undefined): HandlerFeatures {
  const rro = kernelAtLeast(kernelRelease, 5, 12) && (features?.mountOptions ?? []).includes("rro");
  return { recursiveReadOnlyMounts: rro, userNamespaces: false };
}

/** The handler's features document through containerd (undefined for non-runc runtimes). */
async function runtimeFeaturesJson(cd: Containerd, rt: RuntimeHandlerConfig): Promise<string | undefined> {
  if (rt.runtimeType !== RUNC_V2) return undefined;
  const options = runtimeOptionsAny(rt);
  const res = await cd.introspection.pluginInfo({
    ...TASK_PLUGIN,
    options: protoAny(RuntimeRequestSchema, { runtimePath: rt.runtimeType, ...(options ? { options } : {}) }),
  });
  const info = unpackAny(res.extra, RuntimeInfoSchema);
  // containerd packs the Go features struct as JSON under its Go type URL.
  return info?.features ? Buffer.from(info.features.value).toString("utf8") : undefined;
}

/** Every configured handler's features; a failed introspection claims nothing (logged, as in containerd). */
export async function introspectHandlerFeatures(cd: Containerd, config: Config, logger: Logger): Promise<HandlerFeatureMap> {
  const out: Record<string, HandlerFeatures> = {};
  const kernel = release();
  for (const [name, rt] of Object.entries(config.runtimes)) {
    try {
      const json = await runtimeFeaturesJson(cd, rt);
      out[name] = handlerFeatures(kernel, json === undefined ? undefined : parseOciFeatures(json));
    } catch (e) {
      logger.warn("could not introspect runtime features", { runtime: name, error: messageOf(e) });
      out[name] = { ...NO_HANDLER_FEATURES };
    }
  }
  logger.debug("runtime handler features", { kernel, features: out });
  return out;
}
