// `make run`: serve the CRI on a unix socket. When no containerd answers on the configured
// address, a private containerd 2.x (scripts/private-containerd.ts) is started first and
// stopped on exit. crib gets --default-cni (its own bridge network while the CNI conf_dir
// is empty) and, on hosts where oom_score_adj cannot be lowered, --restrict-oom-score-adj,
// so a first pod runs with no other step. Flags after `--` (make run ARGS="...") go to crib.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { loadConfig, parseCli } from "../src/config.js";
import { packageInfo } from "../src/package-info.js";
import { canLowerOOMScoreAdj } from "../src/check/oom-score.js";
import { privateContainerdLayout, startPrivateContainerd, type RunningContainerd } from "./private-containerd.js";

function answers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.once("connect", () => (s.destroy(), res(true)));
    s.once("error", () => res(false));
  });
}

const say = (msg: string) => process.stderr.write(`crib run: ${msg}\n`);

async function main(): Promise<number> {
  const repo = packageInfo().root;
  const args = process.argv.slice(2).filter((a) => a !== "--");
  const config = await loadConfig(parseCli(args));
  const crArgs = [...args];
  if (!args.includes("--default-cni")) crArgs.push("--default-cni");
  if (!config.restrictOOMScoreAdj && !(await canLowerOOMScoreAdj())) {
    say("this host cannot lower oom_score_adj (no CAP_SYS_RESOURCE): running with restrict_oom_score_adj");
    crArgs.push("--restrict-oom-score-adj");
  }
  let containerd: RunningContainerd | undefined;
  if (!(await answers(config.containerdAddress))) {
    const layout = privateContainerdLayout();
    say(`no containerd at ${config.containerdAddress}; starting a private one on ${layout.address}`);
    const hostsDir = config.registryConfigPath || "/etc/containerd/certs.d";
    containerd = await startPrivateContainerd(join(repo, ".cache/containerd-2/usr/bin"), layout, hostsDir);
    crArgs.push("--containerd-address", containerd.address);
  }
  // Its own process group: a terminal's Ctrl-C reaches crib once, through this forward.
  const crib = spawn(join(repo, "bin/crib"), crArgs, { stdio: "inherit", detached: true });
  const forward = (sig: NodeJS.Signals) => crib.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((res) => crib.on("exit", (c, s) => res(c ?? (s ? 1 : 0))));
  if (containerd) await containerd.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    say((e as Error).message);
    process.exit(1);
  },
);
