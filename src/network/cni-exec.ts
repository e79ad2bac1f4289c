// Executes one CNI plugin binary: find it in the bin dirs, run it with the environment and
// stdin config, bound its time and output, and turn a failure into a typed error carrying
// the spec's {code, msg, details} (libcni's invoke package semantics).
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildPluginEnv, type PluginEnvInput } from "./cni-plugin-input.js";
import { describeExit, runCommand, SpawnError, type RunCommandResult } from "../io/run-command.js";

/** Well-known CNI error codes (SPEC.md "Error"); 100+ are plugin-specific. */
export const CniErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  PluginNotAvailable: 50,
  PluginNotAvailableLimitedConnectivity: 51,
} as const;

/**
 * A plugin reported failure. `code` is the CNI error code (0 when the plugin gave none),
 * `msg`/`details` its texts; the message reads like libcni's (msg + "; " + details).
 */
export class CniPluginError extends Error {
  override name = "CniPluginError";
  constructor(
    readonly cniCode: number,
    readonly msg: string,
    readonly details = "",
    readonly stderr = "",
    /** Which plugin and operation, e.g. `plugin type="bridge" name="crib" failed (add)`. */
    readonly context = "",
  ) {
    const text = details ? `${msg}; ${details}` : msg;
    super(context ? `${context}: ${text}` : text);
  }

  /** The same error with libcni's per-plugin context in front of the message. */
  withContext(context: string): CniPluginError {
    return new CniPluginError(this.cniCode, this.msg, this.details, this.stderr, context);
  }
}

export interface ExecPluginOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_PLUGIN_TIMEOUT_MS = 60_000;
const DEFAULT_PLUGIN_OUTPUT = 4 * 1024 * 1024;
/** libcni retries "text file busy" (a plugin binary being replaced) five times, 1 s apart. */
const TEXT_BUSY_RETRIES = 5;
const TEXT_BUSY_DELAY_MS = 1000;

/** The first executable <dir>/<type> over binDirs, like libcni's FindInPath. */
export async function findPlugin(type: string, binDirs: readonly string[]): Promise<string> {
  if (!type || type.includes("/")) throw new Error(`invalid plugin name: ${type}`);
  if (binDirs.length === 0) throw new Error("no paths provided");
  for (const dir of binDirs) {
    const candidate = join(dir, type);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  throw new Error(`failed to find plugin ${JSON.stringify(type)} in path [${binDirs.join(" ")}]`);
}

/** Maps a failed run to the error a runtime reports (libcni's RawExec.pluginErr). */
export function pluginErrorFrom(r: RunCommandResult, timeoutMs?: number): CniPluginError {
  const exit = describeExit(r, timeoutMs);
  const stdout = r.stdout.trim();
  const stderr = r.stderr.trim();
  if (r.timedOut) return new CniPluginError(0, `netplugin ${exit}`, stderr ? JSON.stringify(stderr) : "", r.stderr);
  if (!stdout) {
    const msg = stderr ? `netplugin failed: ${JSON.stringify(stderr)}: ${exit}` : `netplugin failed with no error message: ${exit}`;
    return new CniPluginError(0, msg, "", r.stderr);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (e) {
    return new CniPluginError(0, `netplugin failed but error parsing its diagnostic message ${JSON.stringify(stdout)}: ${(e as Error).message}`, "", r.stderr);
  }
  const o = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const code = typeof o.code === "number" ? o.code : 0;
  const msg = typeof o.msg === "string" && o.msg ? o.msg : `netplugin failed: ${exit}`;
  const details = typeof o.details === "string" ? o.details : "";
  return new CniPluginError(code, msg, details, r.stderr);
}

/**
 * Runs a plugin and returns its stdout. Non-zero exit, timeout or oversized output
 * throws CniPluginError; a binary that cannot be started throws SpawnError.
 */
export async function execPlugin(
  pluginPath: string,
  stdin: string,
  envInput: PluginEnvInput,
  opts: ExecPluginOptions = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  const env = buildPluginEnv(envInput, opts.env);
  for (let attempt = 0; ; attempt++) {
    let r: RunCommandResult;
    try {
      r = await runCommand(pluginPath, [], {
        input: stdin,
        env,
        timeoutMs,
        maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_PLUGIN_OUTPUT,
        signal: opts.signal,
      });
    } catch (e) {
      if (e instanceof SpawnError && e.code === "ETXTBSY" && attempt < TEXT_BUSY_RETRIES) {
        await sleep(TEXT_BUSY_DELAY_MS);
        continue;
      }
      throw e;
    }
    if (r.code !== 0 || r.timedOut) throw pluginErrorFrom(r, timeoutMs);
    if (r.truncated) throw new CniPluginError(0, `netplugin output exceeded ${opts.maxOutputBytes ?? DEFAULT_PLUGIN_OUTPUT} bytes`);
    return r.stdout;
  }
}
