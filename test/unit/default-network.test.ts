import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConflist, parseProcNetRoute, pickSubnet, useDefaultNetwork, DEFAULT_BRIDGE } from "../../src/network/default-network.js";
import { parseNetworkConfigList } from "../../src/network/cni-config.js";
import { DEFAULTS } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";

const HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";
const row = (iface: string, dst: string, mask: string) => `${iface}\t${dst}\t00000000\t0001\t0\t0\t0\t${mask}\t0\t0\t0`;

test("/proc/net/route is read in host byte order", () => {
  const routes = parseProcNetRoute([HEADER, row("eth0", "00000000", "00000000"), row("eth0", "000200C0", "00FFFFFF"), row("docker0", "000011AC", "0000FFFF"), ""].join("\n"));
  assert.deepEqual(
    routes.map((r) => ({ iface: r.iface, dst: r.dst.toString(16), mask: r.mask.toString(16) })),
    [
      { iface: "eth0", dst: "0", mask: "0" },
      { iface: "eth0", dst: "c0000200", mask: "ffffff00" },
      { iface: "docker0", dst: "ac110000", mask: "ffff0000" },
    ],
  );
});

const r = (iface: string, cidr: string) => {
  const [addr, len] = cidr.split("/") as [string, string];
  const dst = addr.split(".").reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
  const mask = Number(len) === 0 ? 0 : (0xffffffff << (32 - Number(len))) >>> 0;
  return { iface, dst, mask };
};

test("the subnet avoids every route that overlaps it", () => {
  const cases: Array<{ name: string; routes: ReturnType<typeof r>[]; want: string }> = [
    { name: "no routes", routes: [], want: "10.88.0.0/24" },
    { name: "a default route covers all but is no collision", routes: [r("eth0", "0.0.0.0/0"), r("eth0", "192.0.2.0/24")], want: "10.88.0.0/24" },
    { name: "an equal /24 is taken", routes: [r("cni0", "10.88.0.0/24")], want: "10.88.1.0/24" },
    { name: "a wider route covers many", routes: [r("eth1", "10.88.0.0/16")], want: "10.89.0.0/24" },
    { name: "a narrower route inside the /24", routes: [r("eth1", "10.88.0.128/25"), r("eth1", "10.88.1.4/32")], want: "10.88.2.0/24" },
    { name: "all of 10/8 routed elsewhere", routes: [r("vpn0", "10.0.0.0/8")], want: "" },
    { name: "crib's own bridge does not count: a restart keeps the subnet", routes: [r(DEFAULT_BRIDGE, "10.88.0.0/24")], want: "10.88.0.0/24" },
  ];
  for (const c of cases) {
    if (c.want === "") assert.throws(() => pickSubnet(c.routes), /no free \/24/, c.name);
    else assert.equal(pickSubnet(c.routes), c.want, c.name);
  }
});

test("the conflist is a valid bridge + host-local + portmap list", () => {
  const list = parseNetworkConfigList(JSON.stringify(defaultConflist("10.88.3.0/24", "/run/crib/cni/ipam")));
  assert.deepEqual(list.plugins.map((p) => p.type), ["bridge", "portmap"]);
  const ipam = list.plugins[0]!.raw["ipam"] as { type: string; ranges: Array<Array<{ subnet: string; gateway: string }>>; dataDir: string };
  assert.equal(ipam.type, "host-local");
  assert.deepEqual(ipam.ranges, [[{ subnet: "10.88.3.0/24", gateway: "10.88.3.1" }]]);
  assert.equal(ipam.dataDir, "/run/crib/cni/ipam");
  assert.deepEqual(list.plugins[1]!.capabilities, { portMappings: true });
});

test("useDefaultNetwork writes under state_dir only while conf_dir is empty, and never into conf_dir", async () => {
  const dir = await mkdtemp(join(tmpdir(), "crib-defnet-"));
  try {
    const routeFile = join(dir, "route");
    await writeFile(routeFile, [HEADER, row("eth0", "0000580A", "00FFFFFF"), ""].join("\n")); // 10.88.0.0/24 taken
    const confDir = join(dir, "net.d");
    const base = { ...DEFAULTS, defaultCni: true, cniConfDir: confDir, stateDir: join(dir, "state") };

    const off = await useDefaultNetwork({ ...base, defaultCni: false }, silentLogger(), routeFile);
    assert.equal(off.cniConfDir, confDir);

    const used = await useDefaultNetwork(base, silentLogger(), routeFile);
    assert.equal(used.cniConfDir, join(dir, "state", "cni", "net.d"));
    const written = JSON.parse(await readFile(join(used.cniConfDir, "10-crib-default.conflist"), "utf8"));
    assert.equal(written.plugins[0].ipam.ranges[0][0].subnet, "10.88.1.0/24");

    // The file is kept across restarts even when the routes change (pods keep their subnet).
    await writeFile(routeFile, [HEADER, ""].join("\n"));
    const again = await useDefaultNetwork(base, silentLogger(), routeFile);
    const reread = JSON.parse(await readFile(join(again.cniConfDir, "10-crib-default.conflist"), "utf8"));
    assert.equal(reread.plugins[0].ipam.ranges[0][0].subnet, "10.88.1.0/24");

    // The operator's config wins.
    await mkdir(confDir);
    await writeFile(join(confDir, "10-mine.conflist"), "{}");
    const theirs = await useDefaultNetwork(base, silentLogger(), routeFile);
    assert.equal(theirs.cniConfDir, confDir);

    // A conf_template means the operator's network comes through UpdateRuntimeConfig.
    await rm(join(confDir, "10-mine.conflist"));
    const templated = await useDefaultNetwork({ ...base, cniConfTemplate: "/etc/crib/tmpl" }, silentLogger(), routeFile);
    assert.equal(templated.cniConfDir, confDir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
