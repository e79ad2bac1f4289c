import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mergeCniResults,
  parseCniResult,
  podIPs,
  selectPodIPs,
  toContainerdCniResult,
  type CniResult,
} from "../../src/network/cni-result.js";

// What the bridge plugin prints for a 1.0.0 list (host-side bridge and veth, then eth0).
const BRIDGE_RESULT = {
  cniVersion: "1.0.0",
  interfaces: [
    { name: "cni0", mac: "aa:aa:aa:aa:aa:01" },
    { name: "veth1234", mac: "aa:aa:aa:aa:aa:02" },
    { name: "eth0", mac: "aa:aa:aa:aa:aa:03", sandbox: "/run/netns/cni-1" },
  ],
  ips: [
    { address: "10.88.0.5/16", gateway: "10.88.0.1", interface: 2 },
    { address: "fd00::5/64", gateway: "fd00::1", interface: 2 },
  ],
  routes: [{ dst: "0.0.0.0/0", gw: "10.88.0.1" }],
  dns: {},
};

test("parseCniResult normalises every result version to the 1.0 shape", () => {
  const cases: [string, unknown, Partial<CniResult>][] = [
    ["1.0.0 as text", JSON.stringify(BRIDGE_RESULT), { cniVersion: "1.0.0", ips: [
      { address: "10.88.0.5/16", gateway: "10.88.0.1", interface: 2 },
      { address: "fd00::5/64", gateway: "fd00::1", interface: 2 },
    ] }],
    [
      "0.4.0 ips carry a version field that is dropped",
      { cniVersion: "0.4.0", interfaces: [{ name: "eth0" }], ips: [{ version: "4", address: "10.0.0.2/24", interface: 0 }] },
      { cniVersion: "0.4.0", interfaces: [{ name: "eth0" }], ips: [{ address: "10.0.0.2/24", interface: 0 }], routes: [], dns: {} },
    ],
    [
      "0.2.0 ip4/ip6 with routes",
      {
        cniVersion: "0.2.0",
        ip4: { ip: "10.1.0.2/24", gateway: "10.1.0.1", routes: [{ dst: "0.0.0.0/0" }] },
        ip6: { ip: "fd01::2/64" },
        dns: { nameservers: ["10.1.0.10"], search: ["svc"] },
      },
      {
        cniVersion: "0.2.0",
        interfaces: [],
        ips: [{ address: "10.1.0.2/24", gateway: "10.1.0.1" }, { address: "fd01::2/64" }],
        routes: [{ dst: "0.0.0.0/0" }],
        dns: { nameservers: ["10.1.0.10"], search: ["svc"] },
      },
    ],
    ["missing version means 0.1.0", { ip4: { ip: "10.2.0.2/24" } }, { cniVersion: "", ips: [{ address: "10.2.0.2/24" }] }],
    ["empty 1.0 result (loopback-like)", { cniVersion: "1.0.0" }, { interfaces: [], ips: [], routes: [], dns: {} }],
  ];
  for (const [label, input, want] of cases) {
    const got = parseCniResult(input);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof CniResult], v, `${label}: ${k}`);
  }
});

test("parseCniResult rejects malformed results", () => {
  const cases: [string, unknown, RegExp][] = [
    ["not json", "{", /failed to decode result/],
    ["not an object", "[1]", /not a JSON object/],
    ["bad version", { cniVersion: 1 }, /invalid result cniVersion/],
    ["future version", { cniVersion: "3.0.0" }, /unsupported result cniVersion/],
    ["interface out of range", { cniVersion: "1.0.0", interfaces: [{ name: "eth0" }], ips: [{ address: "10.0.0.2/24", interface: 1 }] }, /interface number 1 is out of bounds/],
    ["negative interface", { cniVersion: "1.0.0", interfaces: [], ips: [{ address: "10.0.0.2/24", interface: -1 }] }, /out of bounds/],
    ["address without prefix", { cniVersion: "1.0.0", ips: [{ address: "10.0.0.2" }] }, /invalid IP address/],
    ["garbage address", { cniVersion: "1.0.0", ips: [{ address: "ten/8" }] }, /invalid IP address/],
    ["prefix too long", { cniVersion: "1.0.0", ips: [{ address: "10.0.0.2/33" }] }, /invalid IP address/],
    ["route without dst", { cniVersion: "1.0.0", routes: [{ gw: "10.0.0.1" }] }, /missing dst/],
    ["interface without name", { cniVersion: "1.0.0", interfaces: [{ mac: "x" }] }, /missing name/],
  ];
  for (const [label, input, want] of cases) assert.throws(() => parseCniResult(input), want, label);
});

test("mergeCniResults attaches IPs to their interface, or to eth0 when none is named", () => {
  const merged = mergeCniResults([
    parseCniResult(BRIDGE_RESULT),
    parseCniResult({ cniVersion: "1.0.0", interfaces: [{ name: "net1" }], ips: [{ address: "192.168.5.5/24", interface: 0 }], dns: { nameservers: ["1.1.1.1"] } }),
    parseCniResult({ cniVersion: "0.2.0", ip4: { ip: "172.16.0.9/16" } }),
  ]);
  assert.deepEqual(Object.keys(merged.interfaces).sort(), ["cni0", "eth0", "net1", "veth1234"]);
  assert.deepEqual(merged.interfaces.eth0, {
    ipConfigs: [
      { ip: "10.88.0.5", gateway: "10.88.0.1" },
      { ip: "fd00::5", gateway: "fd00::1" },
      { ip: "172.16.0.9" },
    ],
    mac: "aa:aa:aa:aa:aa:03",
    sandbox: "/run/netns/cni-1",
  });
  assert.deepEqual(merged.interfaces.net1!.ipConfigs, [{ ip: "192.168.5.5" }]);
  assert.deepEqual(merged.dns, [{}, { nameservers: ["1.1.1.1"] }, {}]);
  assert.deepEqual(merged.routes, [{ dst: "0.0.0.0/0", gw: "10.88.0.1" }]);
});

test("selectPodIPs follows containerd's selectPodIPs", () => {
  const cases: [string[], string, string, string[]][] = [
    [["10.0.0.1"], "ipv6", "10.0.0.1", []],
    [["10.0.0.1", "fd00::1"], "ipv4", "10.0.0.1", ["fd00::1"]],
    [["fd00::1", "10.0.0.1"], "ipv4", "10.0.0.1", ["fd00::1"]],
    [["fd00::1", "10.0.0.1"], "", "10.0.0.1", ["fd00::1"]],
    [["fd00::1", "fd00::2", "10.0.0.1", "10.0.0.2"], "ipv4", "10.0.0.1", ["fd00::1", "fd00::2", "10.0.0.2"]],
    [["10.0.0.1", "fd00::1", "10.0.0.2"], "ipv6", "fd00::1", ["10.0.0.1", "10.0.0.2"]],
    [["fd00::1", "10.0.0.1"], "cni", "fd00::1", ["10.0.0.1"]],
    [["fd00::1", "10.0.0.1"], "bogus", "10.0.0.1", ["fd00::1"]],
    // No address of the preferred family: CNI order.
    [["fd00::1", "fd00::2"], "ipv4", "fd00::1", ["fd00::2"]],
    [["10.0.0.1", "10.0.0.2"], "ipv6", "10.0.0.1", ["10.0.0.2"]],
    [["::ffff:10.0.0.7", "fd00::1"], "ipv4", "::ffff:10.0.0.7", ["fd00::1"]],
  ];
  for (const [ips, pref, ip, additional] of cases) {
    assert.deepEqual(selectPodIPs(ips, pref), { ip, additionalIps: additional }, `${ips.join(",")} ${pref}`);
  }
  assert.throws(() => selectPodIPs([]), /no IP addresses/);
});

test("podIPs reads eth0 and fails when eth0 has no address", () => {
  const merged = mergeCniResults([parseCniResult({ ...BRIDGE_RESULT, ips: [...BRIDGE_RESULT.ips].reverse() })]);
  assert.deepEqual(podIPs(merged), { ip: "10.88.0.5", additionalIps: ["fd00::5"] });
  assert.deepEqual(podIPs(merged, "ipv6"), { ip: "fd00::5", additionalIps: ["10.88.0.5"] });
  assert.throws(() => podIPs(mergeCniResults([parseCniResult({ cniVersion: "1.0.0" })])), /no IP address on eth0/);
});

test("toContainerdCniResult has go-cni's JSON field names", () => {
  const merged = mergeCniResults([parseCniResult(BRIDGE_RESULT)]);
  const json = toContainerdCniResult(merged) as { Interfaces: Record<string, unknown>; DNS: unknown; Routes: unknown };
  assert.deepEqual(json.Interfaces.eth0, {
    IPConfigs: [
      { IP: "10.88.0.5", Gateway: "10.88.0.1" },
      { IP: "fd00::5", Gateway: "fd00::1" },
    ],
    Mac: "aa:aa:aa:aa:aa:03",
    Sandbox: "/run/netns/cni-1",
  });
  assert.deepEqual(json.Interfaces.cni0, { IPConfigs: null, Mac: "aa:aa:aa:aa:aa:01", Sandbox: "" });
  assert.deepEqual(json.DNS, [{}]);
  assert.deepEqual(json.Routes, [{ dst: "0.0.0.0/0", gw: "10.88.0.1" }]);
});
