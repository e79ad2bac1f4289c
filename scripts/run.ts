// `make run`: serve the CRI on a unix socket. When no containerd answers on the configured
// address, a private containerd 2.x (from .cache/containerd-2, CRI plugin disabled, its own
// root/state under /var/lib/crib/containerd and /run/crib/containerd) is started first and
// stopped on exit. Flags after `--` (make run ARGS="...") go to crib.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { containerdConfig, containerdLayout, startContainerd } from "../test/harness/containerd.js";
import { stopDaemon, type Daemon } from "../test/harness/proc.js";
import { loadConfig, parseCli } from "../src/config.js";

const repo = resolve(import.meta.dirname, "..");

function answers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.once("connect", () => (s.destroy(), res(true)));
    s.once("error", () => res(false));
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== "--");
  const cli = parseCli(args);
  const config = await loadConfig(cli);
  let daemon: Daemon | undefined;
  const crArgs = [...args];
  if (!(await answers(config.containerdAddress))) {
    const layout = {
      ...containerdLayout("/var/lib/crib/containerd"),
      state: "/run/crib/containerd/state",
      address: "/run/crib/containerd/containerd.sock",
    };
    console.error(`crib run: no containerd at ${config.containerdAddress}; starting a private one on ${layout.address}`);
    const hostsDir = config.registryConfigPath || "/etc/containerd/certs.d";
    const started = await startContainerd("containerd", join(repo, ".cache/containerd-2/usr/bin"), layout, containerdConfig(layout, hostsDir));
    daemon = started.daemon;
    crArgs.push("--containerd-address", layout.address);
  }
  const crib = spawn(join(repo, "bin/crib"), crArgs, { stdio: "inherit" });
  const forward = (sig: NodeJS.Signals) => crib.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((res) => crib.on("exit", (c, s) => res(c ?? (s ? 1 : 0))));
  if (daemon) await stopDaemon(daemon);
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`crib run: ${(e as Error).message}`);
    process.exit(1);
  },
);
