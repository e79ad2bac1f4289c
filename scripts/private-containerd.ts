// The private containerd `make run` starts when none answers: containerd 2.x unpacked by
// scripts/install-deps.sh into .cache/containerd-2, with every CRI plugin and NRI disabled
// (crib is the only CRI in front of it), its own root/state and its opt and verifier dirs
// moved inside its own folder so nothing host-wide is touched.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "smol-toml";
import { Containerd } from "../src/containerd/client.js";

/** containerd 2.1's built-in CRI plugins and NRI (a fixed host-wide socket). */
export const DISABLED_PLUGINS = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.cri.v1.images",
  "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",
  "io.containerd.nri.v1.nri",
];

export interface PrivateContainerdLayout {
  /** persistent: root, opt, config, log */
  dir: string;
  /** volatile: state and the socket */
  runDir: string;
  address: string;
}

export function privateContainerdLayout(dir = "/var/lib/crib/containerd", runDir = "/run/crib/containerd"): PrivateContainerdLayout {
  return { dir, runDir, address: join(runDir, "containerd.sock") };
}

/** containerd's version 3 config (pure). hostsDir: certs.d folder for Transfer pulls. */
export function privateContainerdConfig(l: PrivateContainerdLayout, hostsDir: string): string {
  return (
    stringify({
      version: 3,
      root: join(l.dir, "root"),
      state: join(l.runDir, "state"),
      disabled_plugins: DISABLED_PLUGINS,
      grpc: { address: l.address },
      plugins: {
        "io.containerd.internal.v1.opt": { path: join(l.dir, "opt") },
        "io.containerd.image-verifier.v1.bindir": { bin_dir: join(l.dir, "image-verifier") },
        "io.containerd.transfer.v1.local": { config_path: hostsDir },
      },
    }) + "\n"
  );
}

export interface RunningContainerd {
  address: string;
  logPath: string;
  stop(): Promise<void>;
}

/** Starts containerd from binDir and resolves once it answers Version on its socket. */
export async function startPrivateContainerd(binDir: string, l: PrivateContainerdLayout, hostsDir: string): Promise<RunningContainerd> {
  const bin = join(binDir, "containerd");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/install-deps.sh (make deps)`);
  for (const d of [l.dir, l.runDir]) mkdirSync(d, { recursive: true });
  const configPath = join(l.dir, "config.toml");
  const logPath = join(l.dir, "containerd.log");
  writeFileSync(configPath, privateContainerdConfig(l, hostsDir));
  // The shim must be the 2.x one next to containerd; runc comes from the system.
  const env = { ...process.env, PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
  const log = openSync(logPath, "a");
  // Its own process group: a Ctrl-C reaches crib, which stops first; containerd is stopped after.
  const child = spawn(bin, ["--config", configPath], { stdio: ["ignore", log, log], detached: true, env });
  closeSync(log);
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  child.on("error", () => {});
  try {
    await waitForVersion(l.address, child);
  } catch (e) {
    await stop(child, exited);
    throw new Error(`${(e as Error).message} (see ${logPath})`);
  }
  return { address: l.address, logPath, stop: () => stop(child, exited) };
}

async function waitForVersion(address: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("containerd exited during start-up");
    if (existsSync(address)) {
      const cd = new Containerd({ address, namespace: "default", defaultTimeoutMs: 2000 });
      try {
        await cd.version.version({});
        return;
      } catch {
        // not serving yet
      } finally {
        cd.close();
      }
    }
    await sleep(100);
  }
  throw new Error(`containerd did not answer on ${address} within 30s`);
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const gone = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!gone) {
    child.kill("SIGKILL");
    await exited;
  }
}
