// The README's quick start, run as written: crib started as `make run` starts it
// (--default-cni, --restrict-oom-score-adj on this host, an empty CNI conf_dir, the default
// sandbox image), then the README's shell block with its crictl commands and the configs
// in examples/. The only substitutions: the socket path, and registry mirrors for docker.io
// and registry.k8s.io (hosts.toml under [registry] config_path) that point at the harness's
// local registry, since neither is reachable here.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadHarness } from "../harness/env.js";
import { pushImage } from "../harness/registry-client.js";
import { connectCri } from "../client/cri-client.js";
import { DEFAULT_BRIDGE } from "../../src/network/default-network.js";

const repo = resolve(import.meta.dirname, "../..");
const h = loadHarness();
const dir = join(h.scratchDir, "quick-start");
const socket = join(dir, "crib.sock");
const podLogDir = (JSON.parse(readFileSync(join(repo, "examples/pod.json"), "utf8")) as { log_directory: string }).log_directory;
let crib: ChildProcess | undefined;
let cribLog = "";
let bridgeExisted = false;

/** The first ```sh block under "## Quick start". */
function readmeQuickStart(): string {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"));
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "README has a ```sh block under ## Quick start");
  return m[1]!;
}

function mirror(dir: string, registry: string, server: string): void {
  mkdirSync(join(dir, registry), { recursive: true });
  writeFileSync(
    join(dir, registry, "hosts.toml"),
    `server = ${JSON.stringify(server)}\n\n[host.${JSON.stringify(h.registry.url)}]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n`,
  );
}

function answers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.once("connect", () => (s.destroy(), res(true)));
    s.once("error", () => res(false));
  });
}

before(async () => {
  mkdirSync(join(dir, "net.d"), { recursive: true });
  bridgeExisted = spawnSync("ip", ["link", "show", DEFAULT_BRIDGE], { stdio: "ignore" }).status === 0;
  // What docker.io/library/busybox and registry.k8s.io/pause resolve to through the mirrors.
  await pushImage(h.images.busybox, `${h.registry.host}/library/busybox:latest`);
  const hosts = join(dir, "hosts");
  mirror(hosts, "docker.io", "https://registry-1.docker.io");
  mirror(hosts, "registry.k8s.io", "https://registry.k8s.io");
  const config = join(dir, "crib.toml");
  writeFileSync(config, `[registry]\nconfig_path = ${JSON.stringify(hosts)}\n\n[cni]\nbin_dir = ${JSON.stringify(h.cni.binDir)}\nconf_dir = ${JSON.stringify(join(dir, "net.d"))}\n`);
  const args = ["--config", config, "--listen", socket, "--containerd-address", h.containerd.address, "--namespace", "crib-quick-start"];
  args.push("--root-dir", join(dir, "root"), "--state-dir", join(dir, "state"), "--default-cni", "--restrict-oom-score-adj");
  crib = spawn(process.execPath, ["--import", "tsx", join(repo, "src/main.ts"), ...args], { stdio: ["ignore", "ignore", "pipe"] });
  crib.stderr!.setEncoding("utf8").on("data", (d: string) => (cribLog += d));
  const deadline = Date.now() + 60_000;
  while (!(await answers(socket))) {
    if (crib.exitCode !== null) throw new Error(`crib exited: ${cribLog}`);
    if (Date.now() > deadline) throw new Error(`crib did not serve: ${cribLog}`);
    await sleep(200);
  }
});

after(async () => {
  if (existsSync(socket)) {
    const client = connectCri(socket, 60_000);
    for (const p of (await client.runtime.listPodSandbox({}).catch(() => ({ items: [] }))).items) {
      await client.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
    }
    client.close();
  }
  crib?.kill("SIGTERM");
  if (crib && crib.exitCode === null) await new Promise((r) => crib!.once("exit", r));
  rmSync(podLogDir, { recursive: true, force: true });
  if (!bridgeExisted) spawnSync("ip", ["link", "delete", DEFAULT_BRIDGE], { stdio: "ignore" });
});

test("the README's quick start runs a pod with a container, exec and logs", async () => {
  const block = readmeQuickStart().replaceAll("unix:///run/crib/crib.sock", `unix://${socket}`);
  // crictl: cri-tools if installed, else the repo's stand-in (run through tsx in tests).
  const shims = join(dir, "bin");
  mkdirSync(shims, { recursive: true });
  writeFileSync(join(shims, "crictl"), `#!/bin/sh\nexec ${process.execPath} --import tsx ${join(repo, "scripts/crictl.ts")} "$@"\n`);
  chmodSync(join(shims, "crictl"), 0o755);
  const hasCrictl = spawnSync("sh", ["-c", "command -v crictl"], { stdio: "ignore" }).status === 0;
  const PATH = hasCrictl ? process.env.PATH : `${shims}:${process.env.PATH}`;
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", block], { cwd: repo, env: { ...process.env, PATH } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => res({ code, stdout, stderr }));
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\ncrib:\n${cribLog.slice(-4000)}`);
  const lines = r.stdout.split("\n");
  // start echoes the id; exec prints the pod's hostname; logs print the container's output.
  assert.ok(lines.includes("hello"), r.stdout);
  assert.ok(lines.includes("hello from crib"), r.stdout);
  assert.match(r.stdout, /Stopped sandbox [0-9a-f]{64}\nRemoved sandbox [0-9a-f]{64}\n$/);
  // crib said which network it used, and wrote it under its state dir, not into conf_dir.
  const used = cribLog.split("\n").find((l) => l.includes("no CNI config in conf_dir: using crib's default network"));
  assert.ok(used, cribLog.slice(-4000));
  const subnet = (JSON.parse(used) as { subnet: string }).subnet;
  assert.match(subnet, /^10\.(8[89]|9\d)\.\d+\.0\/24$/);
  const conflist = JSON.parse(readFileSync(join(dir, "state/cni/net.d/10-crib-default.conflist"), "utf8"));
  assert.equal(conflist.plugins[0].ipam.ranges[0][0].subnet, subnet);
  assert.equal(spawnSync("sh", ["-c", `ls -A ${join(dir, "net.d")}`], { encoding: "utf8" }).stdout, "");
});
