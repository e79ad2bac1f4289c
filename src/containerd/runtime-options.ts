// Runtime options of a handler ([runtimes.NAME.options] in the config, with containerd's
// TOML key names) as the runc shim's Options message, packed as containerd's Go client
// packs it (type URL = the message's full name).
import type { Any } from "@bufbuild/protobuf/wkt";
import { OptionsSchema as RuncOptionsSchema } from "../gen/github.com/containerd/containerd/api/types/runc/options/oci_pb.js";
import { invalidArgument } from "../errors.js";
import type { Config, RuntimeHandlerConfig } from "../config.js";
import { protoAny } from "./any.js";

const RUNC_KEYS: Record<string, [field: string, kind: "bool" | "string" | "number"]> = {
  NoPivotRoot: ["noPivotRoot", "bool"],
  NoNewKeyring: ["noNewKeyring", "bool"],
  ShimCgroup: ["shimCgroup", "string"],
  IoUid: ["ioUid", "number"],
  IoGid: ["ioGid", "number"],
  BinaryName: ["binaryName", "string"],
  Root: ["root", "string"],
  SystemdCgroup: ["systemdCgroup", "bool"],
  CriuImagePath: ["criuImagePath", "string"],
  CriuWorkPath: ["criuWorkPath", "string"],
};

/** Options Any for a runc-type runtime, or undefined when none are set. */
export function runtimeOptionsAny(rt: RuntimeHandlerConfig): Any | undefined {
  if (!rt.runtimeType.startsWith("io.containerd.runc.")) return undefined;
  const init: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rt.options)) {
    const spec = RUNC_KEYS[key];
    if (!spec) throw invalidArgument(`unknown runc option ${key}`);
    if (typeof value !== spec[1]) throw invalidArgument(`runc option ${key}: expected a ${spec[1]}`);
    init[spec[0]] = value;
  }
  return Object.keys(init).length ? protoAny(RuncOptionsSchema, init) : undefined;
}

/** The runtime a CRI runtime_handler selects ("" = the default). */
export function resolveRuntimeHandler(config: Config, handler: string): { name: string; runtime: RuntimeHandlerConfig } {
  const name = handler === "" ? config.defaultRuntimeName : handler;
  const runtime = config.runtimes[name];
  if (!runtime) throw invalidArgument(`no runtime for "${handler}" is configured`);
  return { name, runtime };
}
