import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadCniConfig,
  parseNetworkConfigList,
  parseSinglePluginConfig,
  LOOPBACK_NETWORK,
  type CniConfigLoad,
} from "../../src/network/cni-config.js";

const BRIDGE_LIST = JSON.stringify({
  cniVersion: "1.0.0",
  name: "crib-net",
  plugins: [
    { type: "bridge", bridge: "cni0", ipam: { type: "host-local", subnet: "10.88.0.0/16" } },
    { type: "portmap", capabilities: { portMappings: true, other: false } },
  ],
});

async function withConfDir(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "crib-cniconf-"));
  try {
    for (const [name, content] of Object.entries(files)) {
      if (content === "<dir>") await mkdir(join(dir, name));
      else await writeFile(join(dir, name), content);
    }
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function loaded(r: CniConfigLoad) {
  if (r.config === null) assert.fail(`expected a config, got: ${r.loadStatus}`);
  return r;
}

test("parseNetworkConfigList keeps plugins, declared capabilities and the raw JSON", () => {
  const list = parseNetworkConfigList(BRIDGE_LIST, "/x/10-crib.conflist");
  assert.equal(list.name, "crib-net");
  assert.equal(list.cniVersion, "1.0.0");
  assert.equal(list.disableCheck, false);
  assert.deepEqual(
    list.plugins.map((p) => p.type),
    ["bridge", "portmap"],
  );
  assert.deepEqual(list.plugins[1]!.capabilities, { portMappings: true });
  assert.equal(list.plugins[0]!.raw.bridge, "cni0");
  assert.equal(list.bytes, BRIDGE_LIST);
  assert.equal(list.source, "/x/10-crib.conflist");
});

test("parseNetworkConfigList rejects invalid lists", () => {
  const cases: [string, string, RegExp][] = [
    ["not json", "{", /error parsing configuration list/],
    ["array", "[]", /not a JSON object/],
    ["no name", JSON.stringify({ cniVersion: "1.0.0", plugins: [{ type: "bridge" }] }), /no name/],
    ["name type", JSON.stringify({ name: 3, plugins: [{ type: "bridge" }] }), /invalid name type/],
    ["bad name", JSON.stringify({ name: "a b", plugins: [{ type: "bridge" }] }), /invalid network name/],
    ["bad version", JSON.stringify({ name: "n", cniVersion: "one", plugins: [{ type: "bridge" }] }), /invalid cniVersion/],
    ["future version", JSON.stringify({ name: "n", cniVersion: "2.0.0", plugins: [{ type: "bridge" }] }), /unsupported cniVersion/],
    ["no plugins key", JSON.stringify({ name: "n", cniVersion: "1.0.0" }), /no 'plugins' key/],
    ["empty plugins", JSON.stringify({ name: "n", cniVersion: "1.0.0", plugins: [] }), /no plugins in list/],
    ["plugin without type", JSON.stringify({ name: "n", cniVersion: "1.0.0", plugins: [{ bridge: "x" }] }), /plugin config 0.*missing 'type'/],
    ["plugin type with slash", JSON.stringify({ name: "n", plugins: [{ type: "../bin/sh" }] }), /invalid plugin type/],
    ["disableCheck junk", JSON.stringify({ name: "n", disableCheck: "maybe", plugins: [{ type: "b" }] }), /disableCheck/],
  ];
  for (const [label, text, want] of cases) {
    assert.throws(() => parseNetworkConfigList(text), want, label);
  }
});

test("parseNetworkConfigList version rules", () => {
  const cases: [Record<string, unknown>, string, boolean][] = [
    [{}, "", false],
    [{ cniVersion: "0.4.0", disableCheck: true }, "0.4.0", true],
    [{ cniVersion: "0.3.1", disableCheck: "TRUE" }, "0.3.1", true],
    // cniVersions (CNI 1.1): the newest supported entry wins; unsupported ones are skipped.
    [{ cniVersions: ["0.4.0", "1.0.0", "9.0.0"] }, "1.0.0", false],
    [{ cniVersion: "1.1.0", cniVersions: ["0.4.0"] }, "1.1.0", false],
  ];
  for (const [extra, version, disableCheck] of cases) {
    const list = parseNetworkConfigList(JSON.stringify({ name: "n", plugins: [{ type: "b" }], ...extra }));
    assert.equal(list.cniVersion, version, JSON.stringify(extra));
    assert.equal(list.disableCheck, disableCheck, JSON.stringify(extra));
  }
});

test("parseSinglePluginConfig wraps one plugin into a list", () => {
  const text = JSON.stringify({ cniVersion: "0.4.0", name: "single", type: "bridge", capabilities: { portMappings: true } });
  const list = parseSinglePluginConfig(text, "/x/a.conf");
  assert.equal(list.name, "single");
  assert.equal(list.cniVersion, "0.4.0");
  assert.equal(list.plugins.length, 1);
  assert.equal(list.plugins[0]!.type, "bridge");
  assert.deepEqual(list.plugins[0]!.capabilities, { portMappings: true });
  assert.deepEqual(JSON.parse(list.bytes), { cniVersion: "0.4.0", name: "single", plugins: [JSON.parse(text)] });
  assert.throws(() => parseSinglePluginConfig(BRIDGE_LIST, "/x/a.conf"), /network type not found in \/x\/a.conf/);
});

test("loadCniConfig picks the lexically first .conf/.conflist/.json file", async () => {
  const single = (name: string) => JSON.stringify({ cniVersion: "1.0.0", name, type: "bridge" });
  const cases: [Record<string, string>, string, string][] = [
    [{ "20-b.conflist": BRIDGE_LIST, "10-a.conf": single("from-conf") }, "from-conf", "10-a.conf"],
    [{ "10-a.conflist": BRIDGE_LIST, "20-b.conf": single("other") }, "crib-net", "10-a.conflist"],
    [{ "05.json": single("from-json"), "10.conflist": BRIDGE_LIST }, "from-json", "05.json"],
    // Other extensions, directories and backup files are ignored.
    [{ "00.conf.bak": "junk", "01.txt": "junk", "02.conf": "<dir>", "99.conflist": BRIDGE_LIST }, "crib-net", "99.conflist"],
    // Upper case sorts before lower case (byte order, like Go's sort.Strings).
    [{ "a.conf": single("lower"), "B.conf": single("upper") }, "upper", "B.conf"],
  ];
  for (const [files, name, file] of cases) {
    await withConfDir(files, async (dir) => {
      const r = loaded(await loadCniConfig(dir));
      assert.equal(r.config.name, name);
      assert.equal(r.config.source, join(dir, file));
      assert.equal(r.networks.length, 1);
      assert.equal(r.loadStatus, "OK");
    });
  }
});

test("loadCniConfig with maxConfNum loads further networks in order", async () => {
  const single = (name: string) => JSON.stringify({ cniVersion: "1.0.0", name, type: "bridge" });
  const files = { "10.conf": single("one"), "20.conf": single("two"), "30.conf": single("three") };
  await withConfDir(files, async (dir) => {
    assert.deepEqual(loaded(await loadCniConfig(dir, { maxConfNum: 2 })).networks.map((n) => n.name), ["one", "two"]);
    assert.deepEqual(loaded(await loadCniConfig(dir, { maxConfNum: 0 })).networks.map((n) => n.name), ["one", "two", "three"]);
  });
});

test("loadCniConfig reports containerd's not-ready texts when there is no usable config", async () => {
  const cases: [Record<string, string>, (dir: string) => string][] = [
    [{}, (dir) => `cni config load failed: no network config found in ${dir}: cni plugin not initialized: failed to load cni config`],
    [{ "readme.txt": "x" }, (dir) => `cni config load failed: no network config found in ${dir}: cni plugin not initialized: failed to load cni config`],
    [
      { "10.conflist": "{bad json" },
      (dir) => `cni config load failed: failed to load CNI config list file ${join(dir, "10.conflist")}: error parsing configuration list: `,
    ],
    [{ "10.conf": BRIDGE_LIST }, (dir) => `cni config load failed: network type not found in ${join(dir, "10.conf")}: invalid cni config`],
    [
      { "10.conflist": JSON.stringify({ name: "n", plugins: [] }) },
      (dir) => `cni config load failed: failed to load CNI config list file ${join(dir, "10.conflist")}: error parsing configuration list: no plugins in list: invalid cni config`,
    ],
  ];
  for (const [files, want] of cases) {
    await withConfDir(files, async (dir) => {
      const r = await loadCniConfig(dir);
      assert.equal(r.config, null);
      if (r.config !== null) return;
      assert.equal(r.reason, "NetworkPluginNotReady");
      assert.equal(r.message, "Network plugin returns error: cni plugin not initialized");
      assert.ok(r.loadStatus.startsWith(want(dir)), `${r.loadStatus}\n  does not start with\n${want(dir)}`);
      assert.ok(r.loadStatus.endsWith(": failed to load cni config"), r.loadStatus);
    });
  }
});

test("loadCniConfig of a missing directory is not-ready, not an exception", async () => {
  const r = await loadCniConfig("/nonexistent/crib/net.d");
  assert.equal(r.config, null);
  assert.match(r.loadStatus, /no network config found in \/nonexistent\/crib\/net.d/);
});

test("loadCniConfig refuses oversized files", async () => {
  await withConfDir({ "10.conflist": BRIDGE_LIST }, async (dir) => {
    const r = await loadCniConfig(dir, { maxFileSize: 10 });
    assert.equal(r.config, null);
    assert.match(r.loadStatus, /exceeded max size of 10/);
  });
});

test("loadCniConfig of a conf_dir that is not a directory is not-ready", async () => {
  await withConfDir({ "file": "x" }, async (dir) => {
    const r = await loadCniConfig(join(dir, "file"));
    assert.equal(r.config, null);
    assert.match(r.loadStatus, /^cni config load failed: failed to read config file: ENOTDIR/);
  });
});

test("LOOPBACK_NETWORK is go-cni's built-in loopback list", () => {
  assert.equal(LOOPBACK_NETWORK.name, "cni-loopback");
  assert.equal(LOOPBACK_NETWORK.cniVersion, "0.3.1");
  assert.deepEqual(LOOPBACK_NETWORK.plugins.map((p) => p.type), ["loopback"]);
  assert.deepEqual(parseNetworkConfigList(LOOPBACK_NETWORK.bytes).plugins[0]!.raw, { type: "loopback" });
});
