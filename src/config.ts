// crib's configuration: defaults, the TOML file (keys named as in containerd's CRI plugin
// section where one exists), then command-line flags, in that order of precedence.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";
import { invalidArgument } from "./errors.js";
import type { LogFormat } from "./log.js";

export interface RuntimeHandlerConfig {
  /** containerd runtime, e.g. io.containerd.runc.v2 */
  runtimeType: string;
  /** runc options (options.SystemdCgroup, BinaryName, Root, ...), sent to the shim. */
  options: Record<string, unknown>;
  /** Sandboxer (containerd 2.x): "podsandbox". */
  sandboxer: string;
}

export interface Config {
  listen: string;
  containerdAddress: string;
  namespace: string;
  logLevel: string;
  logFormat: LogFormat;
  /** Serve even when containerd's own CRI plugin is loaded (two CRI servers on one namespace corrupt each other's state). */
  allowContainerdCri: boolean;
  /** Start even when pods in the namespace have their files outside root_dir (made by containerd's CRI elsewhere): they lose exit codes, times and pod files. */
  adoptPartial: boolean;
  /** crib's persistent state (sandbox dirs, ...). */
  rootDir: string;
  /** crib's volatile state (FIFOs, netns, ...). */
  stateDir: string;
  // --- keys from containerd's CRI plugin section ---
  sandboxImage: string;
  snapshotter: string;
  registryConfigPath: string;
  cniBinDir: string;
  cniConfDir: string;
  /** [cni] conf_template: a CNI config rendered with the pod CIDR UpdateRuntimeConfig hands over, while conf_dir has none. */
  cniConfTemplate: string;
  streamServerAddress: string;
  /** "0" chooses a free port at start. */
  streamServerPort: string;
  enableTlsStreaming: boolean;
  tlsCertFile: string;
  tlsKeyFile: string;
  streamIdleTimeoutMs: number;
  maxContainerLogLineSize: number;
  imagePullProgressTimeoutMs: number;
  restrictOOMScoreAdj: boolean;
  defaultRuntimeName: string;
  runtimes: Record<string, RuntimeHandlerConfig>;
  metricsAddress: string;
  /** Request deadline for ordinary containerd calls. */
  containerdTimeoutMs: number;
}

export const DEFAULTS: Config = {
  listen: "/run/crib/crib.sock",
  containerdAddress: "/run/containerd/containerd.sock",
  namespace: "k8s.io",
  logLevel: "info",
  logFormat: "json",
  allowContainerdCri: false,
  adoptPartial: false,
  rootDir: "/var/lib/crib",
  stateDir: "/run/crib",
  sandboxImage: "registry.k8s.io/pause:3.10",
  snapshotter: "overlayfs",
  registryConfigPath: "",
  cniBinDir: "/opt/cni/bin:/usr/lib/cni",
  cniConfDir: "/etc/cni/net.d",
  cniConfTemplate: "",
  streamServerAddress: "127.0.0.1",
  streamServerPort: "0",
  enableTlsStreaming: false,
  tlsCertFile: "",
  tlsKeyFile: "",
  streamIdleTimeoutMs: 4 * 3600_000,
  maxContainerLogLineSize: 16 * 1024,
  imagePullProgressTimeoutMs: 5 * 60_000,
  restrictOOMScoreAdj: false,
  defaultRuntimeName: "runc",
  runtimes: {
    runc: { runtimeType: "io.containerd.runc.v2", options: {}, sandboxer: "podsandbox" },
  },
  metricsAddress: "",
  containerdTimeoutMs: 30_000,
};

/** Parses Go-style durations ("5m", "1h30m", "250ms", "10s"); a bare number is seconds. */
export function parseDuration(value: string | number, key: string): number {
  if (typeof value === "number") return value * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(value)) !== null) {
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    consumed = re.lastIndex;
  }
  if (value === "" || consumed !== value.length) throw invalidArgument(`${key}: invalid duration ${JSON.stringify(value)}`);
  return total;
}

type Toml = Record<string, unknown>;

function str(t: Toml, key: string, fallback: string): string {
  const v = t[key];
  if (v === undefined) return fallback;
  if (typeof v !== "string") throw invalidArgument(`config ${key}: expected a string`);
  return v;
}
function bool(t: Toml, key: string, fallback: boolean): boolean {
  const v = t[key];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw invalidArgument(`config ${key}: expected true or false`);
  return v;
}
function num(t: Toml, key: string, fallback: number): number {
  const v = t[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number") throw invalidArgument(`config ${key}: expected a number`);
  return v;
}
function table(t: Toml, key: string): Toml {
  const v = t[key];
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalidArgument(`config ${key}: expected a table`);
  return v as Toml;
}

/** Applies a parsed TOML document to a config (pure). */
export function applyToml(base: Config, doc: Toml): Config {
  const c: Config = { ...base, runtimes: { ...base.runtimes } };
  c.listen = str(doc, "listen", c.listen);
  c.containerdAddress = str(doc, "containerd_address", c.containerdAddress);
  c.namespace = str(doc, "namespace", c.namespace);
  c.logLevel = str(doc, "log_level", c.logLevel);
  const lf = str(doc, "log_format", c.logFormat);
  if (lf !== "json" && lf !== "text") throw invalidArgument(`config log_format: expected json or text`);
  c.logFormat = lf;
  c.allowContainerdCri = bool(doc, "allow_containerd_cri", c.allowContainerdCri);
  c.adoptPartial = bool(doc, "adopt_partial", c.adoptPartial);
  c.rootDir = str(doc, "root_dir", c.rootDir);
  c.stateDir = str(doc, "state_dir", c.stateDir);
  c.sandboxImage = str(doc, "sandbox_image", c.sandboxImage);
  c.snapshotter = str(doc, "snapshotter", c.snapshotter);
  c.registryConfigPath = str(table(doc, "registry"), "config_path", c.registryConfigPath);
  const cni = table(doc, "cni");
  c.cniBinDir = str(cni, "bin_dir", c.cniBinDir);
  c.cniConfDir = str(cni, "conf_dir", c.cniConfDir);
  c.cniConfTemplate = str(cni, "conf_template", c.cniConfTemplate);
  c.streamServerAddress = str(doc, "stream_server_address", c.streamServerAddress);
  c.streamServerPort = str(doc, "stream_server_port", c.streamServerPort);
  c.enableTlsStreaming = bool(doc, "enable_tls_streaming", c.enableTlsStreaming);
  const tls = table(doc, "x509_key_pair_streaming");
  c.tlsCertFile = str(tls, "tls_cert_file", c.tlsCertFile);
  c.tlsKeyFile = str(tls, "tls_key_file", c.tlsKeyFile);
  if (doc["stream_idle_timeout"] !== undefined) c.streamIdleTimeoutMs = parseDuration(doc["stream_idle_timeout"] as string, "stream_idle_timeout");
  c.maxContainerLogLineSize = num(doc, "max_container_log_line_size", c.maxContainerLogLineSize);
  if (doc["image_pull_progress_timeout"] !== undefined)
    c.imagePullProgressTimeoutMs = parseDuration(doc["image_pull_progress_timeout"] as string, "image_pull_progress_timeout");
  c.restrictOOMScoreAdj = bool(doc, "restrict_oom_score_adj", c.restrictOOMScoreAdj);
  c.defaultRuntimeName = str(doc, "default_runtime_name", c.defaultRuntimeName);
  for (const [name, raw] of Object.entries(table(doc, "runtimes"))) {
    if (typeof raw !== "object" || raw === null) throw invalidArgument(`config runtimes.${name}: expected a table`);
    const r = raw as Toml;
    c.runtimes[name] = {
      runtimeType: str(r, "runtime_type", "io.containerd.runc.v2"),
      options: { ...table(r, "options") },
      sandboxer: str(r, "sandboxer", "podsandbox"),
    };
  }
  if (!c.runtimes[c.defaultRuntimeName]) throw invalidArgument(`config default_runtime_name: no runtime ${c.defaultRuntimeName} in [runtimes]`);
  c.metricsAddress = str(doc, "metrics_address", c.metricsAddress);
  return c;
}

export const USAGE = `Usage: crib [flags]

crib serves the Kubernetes CRI (runtime.v1) on a unix socket and carries out every RPC
through containerd's own gRPC API.

Flags:
  --config FILE                TOML config file (keys as in containerd's CRI plugin section:
                               sandbox_image, snapshotter, [registry] config_path, [cni] bin_dir /
                               conf_dir / conf_template, stream_server_address, stream_server_port,
                               max_container_log_line_size, image_pull_progress_timeout,
                               restrict_oom_score_adj, [runtimes.NAME] ...)
  --listen PATH                CRI socket (default ${DEFAULTS.listen}); created mode 0660, a stale
                               socket is replaced, refused when another server answers on it
  --containerd-address PATH    containerd socket (default ${DEFAULTS.containerdAddress})
  --namespace NAME             containerd namespace (default ${DEFAULTS.namespace})
  --root-dir DIR               persistent state (default ${DEFAULTS.rootDir})
  --state-dir DIR              volatile state (default ${DEFAULTS.stateDir})
  --log-level LEVEL            error|warn|info|debug (default ${DEFAULTS.logLevel}); at debug every
                               RPC's log line lists the containerd calls it made
  --log-format FORMAT          json|text (default ${DEFAULTS.logFormat})
  --allow-containerd-cri       serve even if containerd's own CRI plugin is loaded (unsafe on
                               the same namespace)
  --adopt-partial              start even when pods in the namespace keep their files outside
                               --root-dir (made by containerd's CRI: start crib on its dirs
                               instead, see \`crib migrate check\`); they lose exit codes, times,
                               pod files (config adopt_partial; default false: refuse)
  --metrics-address HOST:PORT  serve Prometheus metrics on http://HOST:PORT/metrics (config
                               metrics_address; off by default; ":PORT" listens on 127.0.0.1)
  --help                       this text

Subcommands:
  crib migrate check [flags]   what crib would adopt from containerd's CRI and what not
                               (read-only; \`crib migrate check --help\`)

Defaults of the config file: sandbox_image=${DEFAULTS.sandboxImage}, snapshotter=${DEFAULTS.snapshotter},
cni bin_dir=${DEFAULTS.cniBinDir}, conf_dir=${DEFAULTS.cniConfDir},
max_container_log_line_size=${DEFAULTS.maxContainerLogLineSize}, image_pull_progress_timeout=5m,
stream_server_address=${DEFAULTS.streamServerAddress}, stream_server_port=0 (a free port).
`;

export interface CliResult {
  help: boolean;
  configFile?: string;
  overrides: Partial<Config>;
}

export function parseCli(argv: string[]): CliResult {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      listen: { type: "string" },
      "containerd-address": { type: "string" },
      namespace: { type: "string" },
      "root-dir": { type: "string" },
      "state-dir": { type: "string" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
      "allow-containerd-cri": { type: "boolean" },
      "adopt-partial": { type: "boolean" },
      "metrics-address": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const o: Partial<Config> = {};
  if (values.listen) o.listen = values.listen;
  if (values["containerd-address"]) o.containerdAddress = values["containerd-address"];
  if (values.namespace) o.namespace = values.namespace;
  if (values["root-dir"]) o.rootDir = values["root-dir"];
  if (values["state-dir"]) o.stateDir = values["state-dir"];
  if (values["log-level"]) o.logLevel = values["log-level"];
  if (values["log-format"]) {
    const f = values["log-format"];
    if (f !== "json" && f !== "text") throw invalidArgument("--log-format must be json or text");
    o.logFormat = f;
  }
  if (values["allow-containerd-cri"]) o.allowContainerdCri = true;
  if (values["adopt-partial"]) o.adoptPartial = true;
  if (values["metrics-address"]) o.metricsAddress = values["metrics-address"];
  const r: CliResult = { help: values.help === true, overrides: o };
  if (values.config) r.configFile = values.config;
  return r;
}

export async function loadConfig(cli: CliResult): Promise<Config> {
  let c = DEFAULTS;
  if (cli.configFile) {
    const text = await readFile(cli.configFile, "utf8");
    let doc: Toml;
    try {
      doc = parseToml(text) as Toml;
    } catch (e) {
      throw invalidArgument(`config ${cli.configFile}: ${(e as Error).message}`);
    }
    c = applyToml(c, doc);
  }
  return { ...c, ...cli.overrides };
}
