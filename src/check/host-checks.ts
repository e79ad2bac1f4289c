// The checks `crib check` runs, one function per line of its report. Read-only: they ask
// containerd, run `runc --version`/`runc features`/`criu --version`, read files under
// /proc, /sys and the CNI dirs, and probe oom_score_adj on the check's own process.
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { Config } from "../config.js";
import { Containerd } from "../containerd/client.js";
import { detectCapabilities } from "../containerd/capabilities.js";
import { loadCniConfig, listCniConfigFiles } from "../network/cni-config.js";
import { DEFAULT_NETWORK_PLUGINS } from "../network/default-network.js";
import { messageOf } from "../errors.js";
import { canLowerOOMScoreAdj } from "./oom-score.js";
import { fail, ok, warn, type CheckResult } from "./check-result.js";

const exec = promisify(execFile);

const SEARCH_PATH = () => (process.env.PATH ?? "").split(":").concat(["/usr/local/sbin", "/usr/sbin", "/sbin"]).filter(Boolean);

/** An executable's path: as given when it has a slash, else the first hit on PATH. */
export async function findExecutable(name: string, dirs: readonly string[] = SEARCH_PATH()): Promise<string | undefined> {
  const candidates = name.includes("/") ? [name] : dirs.map((d) => join(d, name));
  for (const c of candidates) {
    if (await access(c, constants.X_OK).then(() => true, () => false)) return c;
  }
  return undefined;
}

export async function checkContainerd(config: Config): Promise<CheckResult> {
  const cd = new Containerd({ address: config.containerdAddress, namespace: config.namespace, defaultTimeoutMs: 5000 });
  try {
    await cd.waitReady(3000);
    const caps = await detectCapabilities(cd);
    const features = `transfer ${caps.transfer ? "yes" : "no"}, sandbox store ${caps.sandboxStore ? "yes" : "no"}, snapshotters ${caps.snapshotters.join(",")}`;
    const where = `${caps.version} at ${config.containerdAddress}`;
    if (caps.criPluginLoaded && !config.allowContainerdCri) {
      return fail("containerd", `${where}: its own CRI plugin is loaded; disable it (disabled_plugins) or crib refuses to serve`);
    }
    if (!caps.transfer) return fail("containerd", `${where}: no Transfer service (crib pulls through it; containerd 1.7+ needed)`);
    if (!caps.snapshotters.includes(config.snapshotter)) return fail("containerd", `${where}: snapshotter ${config.snapshotter} is not loaded (${features})`);
    return ok("containerd", `${where}, CRI plugin ${caps.criPluginLoaded ? "loaded (--allow-containerd-cri)" : "disabled"}, ${features}`);
  } catch (e) {
    return fail("containerd", `not reachable at ${config.containerdAddress}: ${messageOf(e)}`);
  } finally {
    cd.close();
  }
}

interface RuncFeatures {
  linux?: { seccomp?: { enabled?: boolean }; cgroup?: { v1?: boolean; v2?: boolean; systemd?: boolean }; apparmor?: { enabled?: boolean } };
  annotations?: Record<string, string>;
}

export async function checkRunc(config: Config): Promise<CheckResult> {
  const handler = config.runtimes[config.defaultRuntimeName];
  const binaryName = typeof handler?.options["BinaryName"] === "string" && handler.options["BinaryName"] !== "" ? (handler.options["BinaryName"] as string) : "runc";
  const bin = await findExecutable(binaryName);
  if (!bin) return fail("runc", `${binaryName} not found on PATH (runtime ${config.defaultRuntimeName})`);
  try {
    const version = (await exec(bin, ["--version"])).stdout.split("\n")[0]!.trim();
    let features = "no `runc features` (runc < 1.1)";
    try {
      const f = JSON.parse((await exec(bin, ["features"])).stdout) as RuncFeatures;
      const l = f.linux ?? {};
      const cg = l.cgroup ?? {};
      features = [
        `seccomp ${l.seccomp?.enabled ? "yes" : "no"}`,
        `cgroup ${[cg.v1 && "v1", cg.v2 && "v2", cg.systemd && "systemd"].filter(Boolean).join("+") || "none"}`,
        `apparmor ${l.apparmor?.enabled ? "yes" : "no"}`,
        `checkpoint ${f.annotations?.["org.opencontainers.runc.checkpoint.enabled"] === "true" ? "yes" : "no"}`,
      ].join(", ");
    } catch {
      // older runc: no features subcommand
    }
    return ok("runc", `${bin}: ${version}; ${features}`);
  } catch (e) {
    return fail("runc", `${bin} does not run: ${messageOf(e)}`);
  }
}

async function missingIn(binDirs: readonly string[], plugins: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const p of plugins) if (!(await findExecutable(p, binDirs))) missing.push(p);
  return missing;
}

export async function checkCniPlugins(config: Config): Promise<CheckResult> {
  const binDirs = config.cniBinDir.split(":").filter(Boolean);
  // loopback goes into every pod; the rest are what crib's default network uses.
  const missing = await missingIn(binDirs, DEFAULT_NETWORK_PLUGINS);
  if (missing.includes("loopback")) return fail("cni plugins", `loopback not in bin_dir ${config.cniBinDir} (every pod needs it)`);
  if (missing.length > 0) return warn("cni plugins", `bin_dir ${config.cniBinDir} lacks ${missing.join(", ")}`);
  return ok("cni plugins", `bin_dir ${config.cniBinDir} has ${DEFAULT_NETWORK_PLUGINS.join(", ")}`);
}

export async function checkCniConfig(config: Config): Promise<CheckResult> {
  const binDirs = config.cniBinDir.split(":").filter(Boolean);
  if ((await listCniConfigFiles(config.cniConfDir).catch(() => [])).length === 0) {
    if (config.defaultCni) return ok("cni config", `none in conf_dir ${config.cniConfDir}: crib writes its default network under ${config.stateDir}/cni (default_cni)`);
    if (config.cniConfTemplate) return warn("cni config", `none in conf_dir ${config.cniConfDir} until the kubelet sends a pod CIDR (conf_template ${config.cniConfTemplate})`);
    return fail("cni config", `none in conf_dir ${config.cniConfDir}: pods cannot get a network; add one or set default_cni (--default-cni)`);
  }
  const loaded = await loadCniConfig(config.cniConfDir);
  if (!loaded.config) return fail("cni config", loaded.loadStatus);
  const net = loaded.config;
  const missing = await missingIn(binDirs, net.plugins.map((p) => p.type));
  if (missing.length > 0) return fail("cni config", `network ${net.name} (${net.source}) needs ${missing.join(", ")}, not in bin_dir ${config.cniBinDir}`);
  return ok("cni config", `network ${net.name} from ${net.source}: ${net.plugins.map((p) => p.type).join(", ")}`);
}

export async function checkCgroups(config: Config): Promise<CheckResult> {
  const v2 = await access("/sys/fs/cgroup/cgroup.controllers").then(() => true, () => false);
  const systemd = config.runtimes[config.defaultRuntimeName]?.options["SystemdCgroup"] === true;
  const driver = systemd ? "systemd" : "cgroupfs";
  const line = `cgroup ${v2 ? "v2" : "v1"}, driver ${driver} (runtime ${config.defaultRuntimeName} SystemdCgroup=${systemd})`;
  if (systemd && !(await access("/run/systemd/system").then(() => true, () => false))) {
    return fail("cgroups", `${line}: systemd is not running; set SystemdCgroup = false`);
  }
  // The kubelet's cgroupDriver must say the same.
  return ok("cgroups", `${line}; the kubelet's cgroupDriver must be ${driver}`);
}

export async function checkOOMScoreAdj(config: Config): Promise<CheckResult> {
  if (await canLowerOOMScoreAdj()) return ok("oom_score_adj", "can be lowered (pause gets -998, guaranteed pods negative values)");
  if (config.restrictOOMScoreAdj) return ok("oom_score_adj", "cannot be lowered here; restrict_oom_score_adj clamps containers to crib's own value");
  return fail("oom_score_adj", "cannot be lowered (no CAP_SYS_RESOURCE): runc would fail every pod; set restrict_oom_score_adj = true (--restrict-oom-score-adj)");
}

export async function checkCriu(): Promise<CheckResult> {
  const bin = await findExecutable("criu");
  if (!bin) return warn("criu", "not installed: CheckpointContainer answers UNIMPLEMENTED");
  try {
    const { stdout } = await exec(bin, ["--version"]);
    return ok("criu", `${bin}: ${stdout.split("\n")[0]!.trim()} (CheckpointContainer available)`);
  } catch (e) {
    return warn("criu", `${bin} does not run: ${messageOf(e)}`);
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.once("connect", () => (s.destroy(), res(true)));
    s.once("error", () => res(false));
  });
}

async function nearestDir(path: string): Promise<string> {
  let dir = dirname(path);
  while (!(await stat(dir).then((s) => s.isDirectory(), () => false)) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const mode = (m: number) => (m & 0o777).toString(8).padStart(4, "0");

export async function checkSocket(config: Config): Promise<CheckResult> {
  const st = await stat(config.listen).catch(() => undefined);
  if (st) {
    const perms = `mode ${mode(st.mode)} uid ${st.uid} gid ${st.gid}`;
    if (!st.isSocket()) return fail("socket", `${config.listen} exists and is not a socket`);
    if (await answers(config.listen)) return ok("socket", `${config.listen} is served already (a running crib?), ${perms}`);
    if ((st.mode & 0o007) !== 0) return warn("socket", `${config.listen} (stale) is open to all users, ${perms}; crib recreates it 0660`);
    return ok("socket", `${config.listen} is stale; crib replaces it (mode 0660)`);
  }
  const dir = await nearestDir(config.listen);
  if (!(await access(dir, constants.W_OK).then(() => true, () => false))) return fail("socket", `cannot create ${config.listen}: ${dir} is not writable`);
  return ok("socket", `${config.listen} will be created (mode 0660, owner ${process.getuid?.() ?? "?"})`);
}

/** Every check, in report order. */
export async function runHostChecks(config: Config): Promise<CheckResult[]> {
  return [
    await checkContainerd(config),
    await checkRunc(config),
    await checkCniPlugins(config),
    await checkCniConfig(config),
    await checkCgroups(config),
    await checkOOMScoreAdj(config),
    await checkCriu(),
    await checkSocket(config),
  ];
}
