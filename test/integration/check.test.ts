// `crib check` against the harness's containerd: a host fit to serve pods exits 0 with one
// ok line per item; a dead containerd socket (or one with its CRI plugin loaded) fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadHarness } from "../harness/env.js";

const repo = resolve(import.meta.dirname, "../..");
const h = loadHarness();
const dir = join(h.scratchDir, "crib-check");
mkdirSync(dir, { recursive: true });
const configFile = join(dir, "crib.toml");
writeFileSync(configFile, `[cni]\nbin_dir = ${JSON.stringify(h.cni.binDir)}\nconf_dir = ${JSON.stringify(h.cni.confDir)}\n`);

function crib(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repo, "src/main.ts"), ...args], { cwd: repo });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", rej);
    child.on("close", (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

const line = (out: string, name: string) => out.split("\n").find((l) => l.slice(6).startsWith(name + " ")) ?? "";
const common = ["--config", configFile, "--listen", join(dir, "crib.sock"), "--restrict-oom-score-adj"];

test("crib check on a fit host: exit 0, one ok line per item", async () => {
  const r = await crib(["check", ...common, "--containerd-address", h.containerd.address]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(line(r.stdout, "containerd"), new RegExp(`^ok +containerd +${h.containerd.version.replace(/\./g, "\\.")}\\S* at ${h.containerd.address}, CRI plugin disabled, transfer yes, sandbox store yes, snapshotters .*overlayfs`));
  assert.match(line(r.stdout, "runc"), /^ok +runc +\/usr\/sbin\/runc: runc version 1\.\d+\.\d+.*; seccomp (yes|no), cgroup v1/);
  assert.match(line(r.stdout, "cni plugins"), /^ok +cni plugins +bin_dir \/usr\/lib\/cni has bridge, host-local, portmap, loopback$/);
  assert.match(line(r.stdout, "cni config"), new RegExp(`^ok +cni config +network crib-test from ${h.cni.confFile}: bridge, portmap$`));
  assert.match(line(r.stdout, "cgroups"), /^ok +cgroups +cgroup v[12], driver cgroupfs/);
  assert.match(line(r.stdout, "oom_score_adj"), /^ok +oom_score_adj +/);
  assert.match(line(r.stdout, "criu"), /^(ok|warn) +criu +/);
  assert.match(line(r.stdout, "socket"), new RegExp(`^ok +socket +${join(dir, "crib.sock")} will be created \\(mode 0660`));
  assert.match(r.stdout, /crib can serve pods on this host\n$/);
});

test("crib check with no containerd: non-zero, and the containerd line says so", async () => {
  const dead = join(dir, "dead.sock");
  const r = await crib(["check", ...common, "--containerd-address", dead]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(line(r.stdout, "containerd"), new RegExp(`^fail +containerd +not reachable at ${dead}: `));
  assert.match(r.stdout, /crib cannot serve pods on this host/);
});

test("crib check with no CNI config and no default_cni: the cni config line fails", async () => {
  const empty = join(dir, "empty-net.d");
  mkdirSync(empty, { recursive: true });
  const cfg = join(dir, "no-cni.toml");
  writeFileSync(cfg, `[cni]\nbin_dir = ${JSON.stringify(h.cni.binDir)}\nconf_dir = ${JSON.stringify(empty)}\n`);
  const args = ["check", "--config", cfg, "--listen", join(dir, "crib.sock"), "--restrict-oom-score-adj", "--containerd-address", h.containerd.address];
  const r = await crib(args);
  assert.equal(r.code, 1);
  assert.match(line(r.stdout, "cni config"), new RegExp(`^fail +cni config +none in conf_dir ${empty}: pods cannot get a network`));
  const withDefault = await crib([...args, "--default-cni"]);
  assert.equal(withDefault.code, 0, withDefault.stdout);
  assert.match(line(withDefault.stdout, "cni config"), /^ok +cni config +none in conf_dir .*crib writes its default network/);
});

test("crib check against a containerd whose CRI plugin is loaded fails (needs --with-cri)", async (t) => {
  if (!h.criContainerd) return t.skip("harness started without --with-cri");
  const r = await crib(["check", ...common, "--containerd-address", h.criContainerd.address]);
  assert.equal(r.code, 1);
  assert.match(line(r.stdout, "containerd"), /^fail +containerd +.*its own CRI plugin is loaded/);
});
