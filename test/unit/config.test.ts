import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { applyToml, DEFAULTS, parseCli, parseDuration, USAGE } from "../../src/config.js";
import { Code, CriError } from "../../src/errors.js";

test("parseDuration reads Go durations", () => {
  const cases: [string, number][] = [
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    ["10s", 10_000],
    ["1.5s", 1500],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text, "k"), ms, text);
  for (const bad of ["", "5", "5x", "m5", "5m junk"]) {
    assert.throws(() => parseDuration(bad, "k"), (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT, bad);
  }
});

test("TOML keys are named as in containerd's CRI plugin section", () => {
  const c = applyToml(
    DEFAULTS,
    parse(`
sandbox_image = "127.0.0.1:5000/pause:3.10"
snapshotter = "native"
max_container_log_line_size = 100
image_pull_progress_timeout = "30s"
restrict_oom_score_adj = true
[registry]
config_path = "/etc/crib/certs.d"
[cni]
bin_dir = "/usr/lib/cni"
conf_dir = "/tmp/net.d"
[runtimes.runc.options]
SystemdCgroup = true
[runtimes.other]
runtime_type = "io.containerd.runc.v2"
`),
  );
  assert.equal(c.sandboxImage, "127.0.0.1:5000/pause:3.10");
  assert.equal(c.snapshotter, "native");
  assert.equal(c.maxContainerLogLineSize, 100);
  assert.equal(c.imagePullProgressTimeoutMs, 30_000);
  assert.equal(c.restrictOOMScoreAdj, true);
  assert.equal(c.registryConfigPath, "/etc/crib/certs.d");
  assert.equal(c.cniBinDir, "/usr/lib/cni");
  assert.equal(c.cniConfDir, "/tmp/net.d");
  assert.deepEqual(c.runtimes["runc"]?.options, { SystemdCgroup: true });
  assert.equal(c.runtimes["other"]?.runtimeType, "io.containerd.runc.v2");
  // Defaults stay untouched.
  assert.equal(DEFAULTS.snapshotter, "overlayfs");
});

test("bad config values are INVALID_ARGUMENT", () => {
  const bad = [`snapshotter = 3`, `log_format = "xml"`, `default_runtime_name = "nope"`, `[cni]\nbin_dir = false`];
  for (const text of bad) {
    assert.throws(() => applyToml(DEFAULTS, parse(text)), (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT, text);
  }
});

test("command-line flags override", () => {
  const r = parseCli(["--listen", "/tmp/x.sock", "--namespace", "crib-test", "--log-format", "text", "--allow-containerd-cri"]);
  assert.equal(r.overrides.listen, "/tmp/x.sock");
  assert.equal(r.overrides.namespace, "crib-test");
  assert.equal(r.overrides.logFormat, "text");
  assert.equal(r.overrides.allowContainerdCri, true);
  assert.throws(() => parseCli(["--log-format", "xml"]));
  assert.throws(() => parseCli(["--bogus"]));
});

test("--adopt-partial and adopt_partial turn off the refusal of pods with files elsewhere; off by default", () => {
  assert.equal(DEFAULTS.adoptPartial, false);
  assert.equal(parseCli(["--adopt-partial"]).overrides.adoptPartial, true);
  assert.equal(applyToml(DEFAULTS, { adopt_partial: true }).adoptPartial, true);
  assert.throws(() => applyToml(DEFAULTS, { adopt_partial: "yes" }), /adopt_partial: expected true or false/);
  assert.match(USAGE, /--adopt-partial/);
  assert.match(USAGE, /crib migrate check/);
});
