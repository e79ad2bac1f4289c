// The CNI invoker against fake plugins: tiny shell scripts that record their environment
// and stdin, and answer with canned output, stderr and exit codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseNetworkConfigList, type NetworkConfigList } from "../../src/network/cni-config.js";
import { CniPluginError, findPlugin } from "../../src/network/cni-exec.js";
import { cniAdd, cniCheck, cniDel, setupPodNetwork, teardownPodNetwork, type CniListOptions } from "../../src/network/cni.js";
import { cacheFilePath } from "../../src/network/cni-cache.js";

const FAKE_PLUGIN = `#!/bin/sh
d=$(dirname "$0"); t=$(basename "$0")
seq=$(date +%s%N)
cat > "$d/log/$seq-$t-$CNI_COMMAND.stdin"
env | grep '^CNI_' | sort > "$d/log/$seq-$t-$CNI_COMMAND.env"
[ -f "$d/$t.$CNI_COMMAND.sleep" ] && sleep "$(cat "$d/$t.$CNI_COMMAND.sleep")"
[ -f "$d/$t.$CNI_COMMAND.err" ] && cat "$d/$t.$CNI_COMMAND.err" >&2
[ -f "$d/$t.$CNI_COMMAND.out" ] && cat "$d/$t.$CNI_COMMAND.out"
exit $(cat "$d/$t.$CNI_COMMAND.exit" 2>/dev/null || echo 0)
`;

interface Call {
  plugin: string;
  command: string;
  env: Record<string, string>;
  stdin: Record<string, unknown>;
}

interface Fixture {
  bin: string;
  cache: string;
  /** Installs a fake plugin; files maps "<CMD>.out|err|exit|sleep" to content. */
  plugin(type: string, files?: Record<string, string>): Promise<void>;
  calls(): Promise<Call[]>;
  clearCalls(): Promise<void>;
}

async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "crib-cniexec-"));
  const bin = join(root, "bin");
  const log = join(bin, "log");
  await mkdir(log, { recursive: true });
  const f: Fixture = {
    bin,
    cache: join(root, "cache"),
    async plugin(type, files = {}) {
      await writeFile(join(bin, type), FAKE_PLUGIN);
      await chmod(join(bin, type), 0o755);
      for (const [suffix, content] of Object.entries(files)) await writeFile(join(bin, `${type}.${suffix}`), content);
    },
    async calls() {
      const names = (await readdir(log)).filter((n) => n.endsWith(".stdin")).sort();
      const out: Call[] = [];
      for (const n of names) {
        const [, plugin, command] = /^\d+-(.+)-([A-Z]+)\.stdin$/.exec(n)!;
        const envText = await readFile(join(log, n.replace(/\.stdin$/, ".env")), "utf8");
        const env = Object.fromEntries(envText.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        out.push({ plugin: plugin!, command: command!, env, stdin: JSON.parse(await readFile(join(log, n), "utf8")) });
      }
      return out;
    },
    async clearCalls() {
      for (const n of await readdir(log)) await rm(join(log, n));
    },
  };
  try {
    await fn(f);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const listOf = (version: string, plugins: unknown[], extra: Record<string, unknown> = {}): NetworkConfigList =>
  parseNetworkConfigList(JSON.stringify({ cniVersion: version, name: "fakenet", plugins, ...extra }));

const MAIN_RESULT = JSON.stringify({
  cniVersion: "1.0.0",
  interfaces: [{ name: "fbr0" }, { name: "eth0", sandbox: "/ns" }],
  ips: [{ address: "10.99.0.7/24", gateway: "10.99.0.1", interface: 1 }],
});
const CHAINED_RESULT = JSON.stringify({
  cniVersion: "1.0.0",
  interfaces: [{ name: "fbr0" }, { name: "eth0", sandbox: "/ns" }],
  ips: [
    { address: "10.99.0.7/24", gateway: "10.99.0.1", interface: 1 },
    { address: "fd99::7/64", interface: 1 },
  ],
});

function opts(f: Fixture, netConf: NetworkConfigList, extra: Partial<CniListOptions> = {}): CniListOptions {
  return {
    binDirs: ["/nonexistent-bin", f.bin],
    cacheDir: f.cache,
    netConf,
    containerId: "sandbox1",
    netnsPath: "/run/netns/cni-test",
    args: [["IgnoreUnknown", "1"], ["K8S_POD_NAME", "web"]],
    timeoutMs: 5000,
    ...extra,
  };
}

test("findPlugin takes the first executable match over the bin dirs", async () => {
  await withFixture(async (f) => {
    const other = join(f.bin, "other");
    await mkdir(other);
    await writeFile(join(other, "bridge"), "not executable");
    await f.plugin("bridge");
    assert.equal(await findPlugin("bridge", [other, f.bin]), join(f.bin, "bridge"));
    await chmod(join(other, "bridge"), 0o755);
    assert.equal(await findPlugin("bridge", [other, f.bin]), join(other, "bridge"));
    await assert.rejects(findPlugin("nope", [f.bin]), /failed to find plugin "nope" in path/);
    await assert.rejects(findPlugin("../bridge", [f.bin]), /invalid plugin name/);
    await assert.rejects(findPlugin("bridge", []), /no paths provided/);
  });
});

test("cniAdd runs plugins in order with prevResult, runtimeConfig and the CNI environment", async () => {
  await withFixture(async (f) => {
    await f.plugin("fbridge", { "ADD.out": MAIN_RESULT });
    await f.plugin("fportmap", { "ADD.out": CHAINED_RESULT });
    const list = listOf("1.0.0", [{ type: "fbridge", bridge: "fbr0" }, { type: "fportmap", capabilities: { portMappings: true } }]);
    const mappings = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }];
    const added = await cniAdd(opts(f, list, { capabilityArgs: { portMappings: mappings, dns: { servers: ["1.1.1.1"] } } }));

    assert.deepEqual(added.raw, JSON.parse(CHAINED_RESULT));
    assert.deepEqual(added.result.ips.map((i) => i.address), ["10.99.0.7/24", "fd99::7/64"]);

    const calls = await f.calls();
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command}`), ["fbridge ADD", "fportmap ADD"]);
    assert.deepEqual(calls[0]!.env, {
      CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=web",
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "sandbox1",
      CNI_IFNAME: "eth0",
      CNI_NETNS: "/run/netns/cni-test",
      CNI_PATH: `/nonexistent-bin:${f.bin}`,
    });
    assert.deepEqual(calls[0]!.stdin, { type: "fbridge", bridge: "fbr0", name: "fakenet", cniVersion: "1.0.0" });
    assert.deepEqual(calls[1]!.stdin, {
      type: "fportmap",
      capabilities: { portMappings: true },
      name: "fakenet",
      cniVersion: "1.0.0",
      prevResult: JSON.parse(MAIN_RESULT),
      runtimeConfig: { portMappings: mappings },
    });

    // libcni's cache entry, readable by containerd.
    const cached = JSON.parse(await readFile(cacheFilePath(f.cache, "fakenet", "sandbox1", "eth0"), "utf8"));
    assert.equal(cached.kind, "cniCacheV1");
    assert.equal(cached.containerId, "sandbox1");
    assert.equal(cached.networkName, "fakenet");
    assert.equal(cached.ifName, "eth0");
    assert.equal(cached.netns, "/run/netns/cni-test");
    assert.deepEqual(cached.cniArgs, [["IgnoreUnknown", "1"], ["K8S_POD_NAME", "web"]]);
    assert.deepEqual(cached.result, JSON.parse(CHAINED_RESULT));
    assert.deepEqual(JSON.parse(Buffer.from(cached.config, "base64").toString()), JSON.parse(list.bytes));
  });
});

test("cniDel runs plugins in reverse with the cached result, then drops the cache entry", async () => {
  await withFixture(async (f) => {
    await f.plugin("fbridge", { "ADD.out": MAIN_RESULT });
    await f.plugin("fportmap", { "ADD.out": CHAINED_RESULT });
    const list = listOf("1.0.0", [{ type: "fbridge" }, { type: "fportmap" }]);
    await cniAdd(opts(f, list));
    await f.clearCalls();

    await cniDel(opts(f, list));
    const calls = await f.calls();
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command}`), ["fportmap DEL", "fbridge DEL"]);
    for (const c of calls) {
      assert.deepEqual(c.stdin.prevResult, JSON.parse(CHAINED_RESULT));
      assert.equal(c.env.CNI_COMMAND, "DEL");
      assert.equal(c.env.CNI_IFNAME, "eth0");
    }
    await assert.rejects(readFile(cacheFilePath(f.cache, "fakenet", "sandbox1", "eth0")), { code: "ENOENT" });

    // Again, with nothing cached: still runs, without prevResult (idempotent DEL).
    await f.clearCalls();
    await cniDel(opts(f, list));
    assert.deepEqual((await f.calls()).map((c) => [c.plugin, c.stdin.prevResult]), [["fportmap", undefined], ["fbridge", undefined]]);

    // An explicit prevResult (e.g. the one stored with the sandbox) is used as given.
    await f.clearCalls();
    await cniDel(opts(f, list, { prevResult: JSON.parse(MAIN_RESULT) } as Partial<CniListOptions>));
    assert.deepEqual((await f.calls())[0]!.stdin.prevResult, JSON.parse(MAIN_RESULT));
  });
});

test("cniDel gives no prevResult before spec 0.4.0", async () => {
  await withFixture(async (f) => {
    await f.plugin("fbridge", { "ADD.out": JSON.stringify({ cniVersion: "0.3.1", ips: [{ version: "4", address: "10.0.0.2/24" }] }) });
    const list = listOf("0.3.1", [{ type: "fbridge" }]);
    await cniAdd(opts(f, list));
    await f.clearCalls();
    await cniDel(opts(f, list));
    const [call] = await f.calls();
    assert.equal(call!.stdin.prevResult, undefined);
    assert.equal(call!.stdin.cniVersion, "0.3.1");
  });
});

test("plugin failures become typed errors with libcni's wording", async () => {
  const cases: [string, Record<string, string>, (e: CniPluginError) => void][] = [
    [
      "CNI error JSON",
      { "ADD.out": JSON.stringify({ cniVersion: "1.0.0", code: 7, msg: "invalid config", details: "bridge name too long" }), "ADD.exit": "1" },
      (e) => {
        assert.equal(e.cniCode, 7);
        assert.equal(e.msg, "invalid config");
        assert.equal(e.details, "bridge name too long");
        assert.equal(e.message, 'plugin type="fbridge" name="br" failed (add): invalid config; bridge name too long');
      },
    ],
    [
      "stderr only",
      { "ADD.err": "boom\n", "ADD.exit": "3" },
      (e) => {
        assert.equal(e.cniCode, 0);
        assert.match(e.message, /failed \(add\): netplugin failed: "boom": exit status 3$/);
        assert.equal(e.stderr, "boom\n");
      },
    ],
    ["no output at all", { "ADD.exit": "2" }, (e) => assert.match(e.message, /netplugin failed with no error message: exit status 2$/)],
    [
      "non-JSON stdout",
      { "ADD.out": "segfault", "ADD.exit": "139" },
      (e) => assert.match(e.message, /netplugin failed but error parsing its diagnostic message "segfault"/),
    ],
  ];
  for (const [label, files, check] of cases) {
    await withFixture(async (f) => {
      await f.plugin("fbridge", files);
      const list = listOf("1.0.0", [{ type: "fbridge", name: "br" }]);
      await assert.rejects(cniAdd(opts(f, list)), (e: unknown) => {
        assert.ok(e instanceof CniPluginError, `${label}: ${String(e)}`);
        check(e);
        return true;
      });
      // A failed ADD leaves no cache entry.
      await assert.rejects(readFile(cacheFilePath(f.cache, "fakenet", "sandbox1", "eth0")), { code: "ENOENT" }, label);
    });
  }
});

test("a successful exit with an unusable result fails the ADD", async () => {
  const cases: [string, RegExp][] = [
    ["", /failed \(add\): failed to decode result/],
    ["not json", /failed \(add\): failed to decode result/],
    [JSON.stringify({ cniVersion: "1.0.0", ips: [{ address: "10.0.0.2/24", interface: 4 }] }), /out of bounds/],
  ];
  for (const [out, want] of cases) {
    await withFixture(async (f) => {
      await f.plugin("fbridge", { "ADD.out": out });
      await assert.rejects(cniAdd(opts(f, listOf("1.0.0", [{ type: "fbridge" }]))), want);
    });
  }
});

test("plugin runs are bounded in time and output", async () => {
  await withFixture(async (f) => {
    await f.plugin("fslow", { "ADD.sleep": "5", "ADD.out": MAIN_RESULT });
    const started = Date.now();
    await assert.rejects(cniAdd(opts(f, listOf("1.0.0", [{ type: "fslow" }]), { timeoutMs: 300 })), /timed out after 300ms/);
    assert.ok(Date.now() - started < 3000, "the timeout kills the plugin");

    await f.plugin("fchatty", { "ADD.out": "x".repeat(5000) });
    await assert.rejects(cniAdd(opts(f, listOf("1.0.0", [{ type: "fchatty" }]), { maxOutputBytes: 1000 })), /output exceeded 1000 bytes/);
  });
});

test("missing plugins and bad attachments fail before anything runs", async () => {
  await withFixture(async (f) => {
    await f.plugin("fbridge", { "ADD.out": MAIN_RESULT });
    const list = listOf("1.0.0", [{ type: "fbridge" }, { type: "fmissing" }]);
    await assert.rejects(cniAdd(opts(f, list)), /plugin type="fmissing" failed \(add\): failed to find plugin "fmissing"/);
    await assert.rejects(cniAdd(opts(f, list, { containerId: "bad id" })), /invalid CNI attachment: invalid characters in containerID/);
    await assert.rejects(cniAdd(opts(f, list, { ifName: "a-very-long-ifname" })), /interface name is too long/);
  });
});

test("cniCheck honours the spec version and disableCheck", async () => {
  await withFixture(async (f) => {
    await f.plugin("fbridge", { "ADD.out": MAIN_RESULT });
    await f.plugin("fportmap", { "ADD.out": MAIN_RESULT, "CHECK.out": JSON.stringify({ code: 11, msg: "try later" }), "CHECK.exit": "1" });
    await assert.rejects(cniCheck(opts(f, listOf("0.3.1", [{ type: "fbridge" }]))), /"0.3.1" does not support the CHECK command/);

    const list = listOf("1.0.0", [{ type: "fbridge" }, { type: "fportmap" }]);
    await cniAdd(opts(f, list));
    await f.clearCalls();
    await assert.rejects(cniCheck(opts(f, list)), (e: unknown) => e instanceof CniPluginError && e.cniCode === 11);
    const calls = await f.calls();
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command}`), ["fbridge CHECK", "fportmap CHECK"]);
    assert.deepEqual(calls[0]!.stdin.prevResult, JSON.parse(MAIN_RESULT));

    await f.clearCalls();
    await cniCheck(opts(f, listOf("1.0.0", [{ type: "fportmap" }], { disableCheck: true })));
    assert.deepEqual(await f.calls(), []);
  });
});

test("setupPodNetwork attaches loopback on lo and eth0 (at once, as go-cni) and picks the pod IPs", async () => {
  await withFixture(async (f) => {
    await f.plugin("loopback", { "ADD.out": JSON.stringify({ cniVersion: "0.3.1", interfaces: [{ name: "lo" }], ips: [{ version: "4", address: "127.0.0.1/8", interface: 0 }] }) });
    await f.plugin("fbridge", { "ADD.out": JSON.stringify({ ...JSON.parse(CHAINED_RESULT), ips: [...JSON.parse(CHAINED_RESULT).ips].reverse() }) });
    const list = listOf("1.0.0", [{ type: "fbridge" }]);
    const base = { binDirs: [f.bin], cacheDir: f.cache, networks: [list], containerId: "sandbox1", netnsPath: "/run/netns/cni-x", args: { IgnoreUnknown: "1" } };
    const setup = await setupPodNetwork(base);
    assert.equal(setup.ip, "10.99.0.7");
    assert.deepEqual(setup.additionalIps, ["fd99::7"]);
    assert.deepEqual(setup.attachments.map((a) => [a.network, a.ifName]), [["cni-loopback", "lo"], ["fakenet", "eth0"]]);
    // The loopback result is left out of the merged view, as in go-cni.
    assert.equal(setup.result.interfaces.lo, undefined);
    const calls = await f.calls();
    // Both ran, once each; their order is not fixed.
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.env.CNI_IFNAME}`).sort(), ["fbridge eth0", "loopback lo"]);
    assert.deepEqual(calls.find((c) => c.plugin === "loopback")!.stdin, { type: "loopback", name: "cni-loopback", cniVersion: "0.3.1" });

    // Without loopback, and with an eth0 that gets no address.
    await f.plugin("fnoip", { "ADD.out": JSON.stringify({ cniVersion: "1.0.0" }) });
    await assert.rejects(
      setupPodNetwork({ ...base, loopback: false, networks: [listOf("1.0.0", [{ type: "fnoip" }])] }),
      /failed to find network info for sandbox "sandbox1"/,
    );
    await assert.rejects(setupPodNetwork({ ...base, networks: [] }), /cni plugin not initialized/);
  });
});

test("setupPodNetwork and teardownPodNetwork run the pod's attachments at once; a failed one fails ADD after all settled", async () => {
  await withFixture(async (f) => {
    // Each plugin takes 1.5 s: one after the other, ADD or DEL would take 3 s or more.
    for (const cmd of ["ADD", "DEL"]) {
      await f.plugin("loopback", { [`${cmd}.sleep`]: "1.5", "ADD.out": JSON.stringify({ cniVersion: "0.3.1", interfaces: [{ name: "lo" }] }) });
      await f.plugin("fbridge", { [`${cmd}.sleep`]: "1.5", "ADD.out": MAIN_RESULT });
      const base = { binDirs: [f.bin], cacheDir: f.cache, networks: [listOf("1.0.0", [{ type: "fbridge" }])], containerId: "sandbox1", netnsPath: "" };
      const t0 = performance.now();
      if (cmd === "ADD") assert.equal((await setupPodNetwork(base)).ip, "10.99.0.7");
      else await teardownPodNetwork(base);
      const ms = performance.now() - t0;
      assert.ok(ms >= 1500 && ms < 2900, `${cmd} took ${ms.toFixed(0)} ms`);
    }
    // eth0 fails while lo succeeds: ADD reports eth0's error, after lo's plugin has answered.
    await f.clearCalls();
    await f.plugin("loopback", { "ADD.sleep": "0.5", "ADD.out": JSON.stringify({ cniVersion: "0.3.1", interfaces: [{ name: "lo" }] }) });
    await f.plugin("fbridge", { "ADD.out": JSON.stringify({ code: 11, msg: "try later" }), "ADD.exit": "1" });
    const t0 = performance.now();
    await assert.rejects(
      setupPodNetwork({ binDirs: [f.bin], cacheDir: f.cache, networks: [listOf("1.0.0", [{ type: "fbridge" }])], containerId: "sandbox1", netnsPath: "" }),
      (e: unknown) => e instanceof CniPluginError && e.cniCode === 11,
    );
    assert.ok(performance.now() - t0 >= 500, "the error waited for loopback's ADD");
    assert.deepEqual((await f.calls()).map((c) => c.plugin).sort(), ["fbridge", "loopback"]);
  });
});

test("teardownPodNetwork is tolerant: empty CNI_NETNS when the namespace is gone, 'not found' ignored", async () => {
  await withFixture(async (f) => {
    await f.plugin("loopback");
    await f.plugin("fbridge", { "DEL.out": JSON.stringify({ code: 3, msg: "container not found" }), "DEL.exit": "1" });
    const list = listOf("1.0.0", [{ type: "fbridge" }]);
    const base = { binDirs: [f.bin], cacheDir: f.cache, networks: [list], containerId: "sandbox1", netnsPath: "/run/netns/cni-gone" };
    await teardownPodNetwork(base);
    const calls = await f.calls();
    assert.deepEqual(calls.map((c) => `${c.plugin} ${c.command} ${c.env.CNI_IFNAME} netns=${c.env.CNI_NETNS}`).sort(), [
      "fbridge DEL eth0 netns=",
      "loopback DEL lo netns=",
    ]);

    // A live namespace path is passed through.
    await f.clearCalls();
    await teardownPodNetwork({ ...base, netnsPath: `/proc/${process.pid}/ns/net` });
    assert.ok((await f.calls()).every((c) => c.env.CNI_NETNS === `/proc/${process.pid}/ns/net`));

    // A real failure is reported, after every network was tried.
    await f.plugin("fbridge", { "DEL.out": JSON.stringify({ code: 5, msg: "iptables is locked" }), "DEL.exit": "1" });
    await f.plugin("loopback", { "DEL.out": JSON.stringify({ code: 5, msg: "lo is busy" }), "DEL.exit": "1" });
    await f.clearCalls();
    await assert.rejects(teardownPodNetwork(base), /lo is busy.*and 1 more: .*iptables is locked/);
    assert.equal((await f.calls()).length, 2);
  });
});

test("a plugin that leaves a background process holding stdout does not hang the runtime", async () => {
  await withFixture(async (f) => {
    const script = join(f.bin, "fdaemon");
    await writeFile(script, `#!/bin/sh\ncat >/dev/null\nsleep 5 &\necho '${MAIN_RESULT}'\n`);
    await chmod(script, 0o755);
    const started = Date.now();
    const added = await cniAdd(opts(f, listOf("1.0.0", [{ type: "fdaemon" }]), { cacheDir: null }));
    assert.equal(added.result.ips[0]!.address, "10.99.0.7/24");
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started}ms`);
  });
});
