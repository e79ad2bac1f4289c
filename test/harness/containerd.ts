// Private containerd 2.x instances: config (version 3 TOML) and start-up.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "smol-toml";
import { run, startDaemon, waitUntil, type Daemon } from "./proc.js";
import type { ContainerdInfo } from "./env.js";

/**
 * Plugin ids of containerd 2.1's built-in CRI. crib must be the only CRI in front of
 * its containerd, so all of them go. The sandbox store, the shim sandbox controller,
 * transfer and streaming are not CRI's and stay.
 */
export const CRI_PLUGIN_IDS = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.cri.v1.images",
  "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",
] as const;

/** NRI listens on a fixed host-wide socket (/var/run/nri/nri.sock): two instances would clash. */
const NRI_PLUGIN_ID = "io.containerd.nri.v1.nri";

export interface ContainerdLayout {
  dir: string;
  root: string;
  state: string;
  address: string;
  configPath: string;
  logPath: string;
}

export function containerdLayout(dir: string): ContainerdLayout {
  return {
    dir,
    root: join(dir, "root"),
    state: join(dir, "state"),
    address: join(dir, "containerd.sock"),
    configPath: join(dir, "config.toml"),
    logPath: join(dir, "containerd.log"),
  };
}

export interface CriSettings {
  sandboxImage: string;
  cniBinDir: string;
  cniConfDir: string;
}

/** Which containerd the harness runs: CRIB_CONTAINERD=2 (default), 1.7 or 1.6. */
export type ContainerdLine = "2" | "1.7" | "1.6";
export const CONTAINERD_LINE_ENV = "CRIB_CONTAINERD";

export function containerdLine(env: NodeJS.ProcessEnv = process.env): ContainerdLine {
  const v = env[CONTAINERD_LINE_ENV] ?? "2";
  if (v === "2" || v === "1.7" || v === "1.6") return v;
  throw new Error(`${CONTAINERD_LINE_ENV}=${v}: expected 2, 1.7 or 1.6`);
}

/** The unpacked Debian build of that line (scripts/install-deps.sh). */
export function containerdBinDir(repo: string, line: ContainerdLine): string {
  return join(repo, `.cache/containerd-${line}/usr/bin`);
}

/**
 * containerd 1.6/1.7 (config version 2): only the single 1.x CRI plugin goes; there is no
 * image verifier, and 1.7's transfer service has no config_path (crib passes host_dir).
 */
function containerdConfigV2(l: ContainerdLayout): string {
  const config = {
    version: 2,
    root: l.root,
    state: l.state,
    disabled_plugins: ["io.containerd.grpc.v1.cri", NRI_PLUGIN_ID],
    grpc: { address: l.address },
    debug: { level: "info" },
    plugins: { "io.containerd.internal.v1.opt": { path: join(l.dir, "opt") } },
  };
  return stringify(config) + "\n";
}

/** Everything host-wide (opt dir, verifier dir) is moved into the instance's own folder. */
export function containerdConfig(l: ContainerdLayout, hostsDir: string, cri?: CriSettings, line: ContainerdLine = "2"): string {
  if (line !== "2") {
    if (cri) throw new Error(`containerd ${line}: the built-in CRI comparison runs on 2.x only`);
    return containerdConfigV2(l);
  }
  const plugins: Record<string, unknown> = {
    "io.containerd.internal.v1.opt": { path: join(l.dir, "opt") },
    "io.containerd.image-verifier.v1.bindir": { bin_dir: join(l.dir, "image-verifier") },
    // Transfer-service pulls (ctr pull, crib) resolve registries through the hosts dir.
    "io.containerd.transfer.v1.local": { config_path: hostsDir },
  };
  if (cri) {
    plugins["io.containerd.cri.v1.images"] = {
      snapshotter: "overlayfs",
      pinned_images: { sandbox: cri.sandboxImage },
      registry: { config_path: hostsDir },
    };
    plugins["io.containerd.cri.v1.runtime"] = {
      // root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj would fail in runc.
      restrict_oom_score_adj: true,
      // pod netns bind mounts under the state dir, so the harness unmounts them with the rest.
      netns_mounts_under_state_dir: true,
      enable_cdi: false,
      cni: { bin_dirs: [cri.cniBinDir], conf_dir: cri.cniConfDir, max_conf_num: 1 },
    };
    plugins["io.containerd.grpc.v1.cri"] = {
      disable_tcp_service: true,
      stream_server_address: "127.0.0.1",
      stream_server_port: "0",
    };
  }
  const config = {
    version: 3,
    root: l.root,
    state: l.state,
    disabled_plugins: cri ? [NRI_PLUGIN_ID] : [...CRI_PLUGIN_IDS, NRI_PLUGIN_ID],
    grpc: { address: l.address },
    debug: { level: "info" },
    plugins,
  };
  return stringify(config) + "\n";
}

export interface StartedContainerd {
  info: ContainerdInfo;
  daemon: Daemon;
}

export function ctrPath(binDir: string): string {
  return join(binDir, "ctr");
}

/** Starts containerd and waits until `ctr version` gets an answer from it. */
export async function startContainerd(
  name: string,
  binDir: string,
  l: ContainerdLayout,
  config: string,
  track?: (d: Daemon) => void,
): Promise<StartedContainerd> {
  const bin = join(binDir, "containerd");
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: run scripts/install-deps.sh (make deps)`);
  }
  for (const d of [l.dir, l.root, l.state]) mkdirSync(d, { recursive: true });
  writeFileSync(l.configPath, config);
  // The shim must be the 2.x one next to containerd; runc is bookworm's (/usr/sbin).
  const env = { ...process.env, PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
  const daemon = startDaemon(name, bin, ["--config", l.configPath], l.logPath, { env, track });
  await waitUntil(
    `${name} on ${l.address}`,
    async () => {
      if (!existsSync(l.address)) return false;
      await run(ctrPath(binDir), ["--address", l.address, "version"], { timeoutMs: 5000 });
      return true;
    },
    { daemon, timeoutMs: 30_000 },
  );
  const info: ContainerdInfo = {
    address: l.address,
    root: l.root,
    state: l.state,
    configPath: l.configPath,
    logPath: l.logPath,
    binDir,
    pid: daemon.pid,
    version: await containerdVersion(bin),
    debVersion: readDebVersion(binDir),
  };
  return { info, daemon };
}

async function containerdVersion(bin: string): Promise<string> {
  // "containerd github.com/containerd/containerd/v2 2.1.9+unknown "
  const { stdout } = await run(bin, ["--version"]);
  const m = /\s(\d+\.\d+\.\d+)/.exec(stdout);
  return m ? m[1]! : stdout.trim();
}

function readDebVersion(binDir: string): string {
  try {
    return readFileSync(join(binDir, "..", "..", "VERSION"), "utf8").trim();
  } catch {
    return "unknown";
  }
}
