// The operator files in packaging/ say what crib really reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/config.js";

const repo = resolve(import.meta.dirname, "../..");

test("packaging/crib.toml (migration from containerd's CRI) loads with containerd's values", async () => {
  const c = await loadConfig({ help: false, configFile: join(repo, "packaging/crib.toml"), overrides: {} });
  assert.equal(c.namespace, "k8s.io");
  assert.equal(c.sandboxImage, "registry.k8s.io/pause:3.10");
  assert.equal(c.registryConfigPath, "/etc/containerd/certs.d");
  assert.equal(c.cniBinDir, "/opt/cni/bin");
  assert.equal(c.cniConfDir, "/etc/cni/net.d");
  assert.equal(c.streamIdleTimeoutMs, 4 * 3600_000);
  assert.equal(c.imagePullProgressTimeoutMs, 5 * 60_000);
  assert.equal(c.defaultCni, false);
  assert.deepEqual(c.runtimes["runc"], { runtimeType: "io.containerd.runc.v2", sandboxer: "podsandbox", options: { SystemdCgroup: true } });
});

test("the systemd unit runs the built crib with that config, checks the host first, keeps /run/crib across restarts", () => {
  const unit = readFileSync(join(repo, "packaging/crib.service"), "utf8");
  assert.match(unit, /^ExecStartPre=\/opt\/crib\/bin\/crib check --config \/etc\/crib\/crib.toml$/m);
  assert.match(unit, /^ExecStart=\/opt\/crib\/bin\/crib --config \/etc\/crib\/crib.toml$/m);
  assert.match(unit, /^RuntimeDirectoryPreserve=yes$/m);
  assert.match(unit, /^Requires=containerd.service$/m);
});

test("every config key crib reads is documented in docs/CONFIG.md", () => {
  const doc = readFileSync(join(repo, "docs/CONFIG.md"), "utf8");
  const source = readFileSync(join(repo, "src/config.ts"), "utf8");
  const keys = [...source.matchAll(/(?:str|bool|num)\((?:doc|cni|tls|r), "([a-z_]+)"/g)].map((m) => m[1]!);
  const durations = [...source.matchAll(/doc\["([a-z_]+)"\] !== undefined/g)].map((m) => m[1]!);
  assert.ok(keys.length > 15, `found ${keys.length} keys`);
  for (const k of new Set([...keys, ...durations])) assert.match(doc, new RegExp("(`|\\] )" + k + "`"), `docs/CONFIG.md documents ${k}`);
});
