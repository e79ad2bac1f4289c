import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { PodSandboxConfigSchema, Protocol } from "../../src/gen/runtime/v1/api_pb.js";
import { parseNetworkConfigList } from "../../src/network/cni-config.js";
import {
  buildPluginEnv,
  buildPluginStdin,
  formatCniArgs,
  runtimeConfigFor,
  validateAttachment,
  type CapabilityArgs,
} from "../../src/network/cni-plugin-input.js";
import { podCapabilityArgs, podCniArgs, toCniPortMappings } from "../../src/pod/sandbox-cni-args.js";
import { parseQuantityValue, podBandwidth } from "../../src/network/bandwidth.js";

const LIST = parseNetworkConfigList(
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "crib",
    plugins: [
      { type: "bridge", bridge: "cni0", name: "ignored", cniVersion: "0.1.0", runtimeConfig: { stale: true } },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "bandwidth", capabilities: { bandwidth: true, portMappings: false } },
      { type: "dnsname", capabilities: { dns: true, cgroupPath: true } },
    ],
  }),
);

const CAPS: CapabilityArgs = {
  portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
  bandwidth: { ingressRate: 1000, ingressBurst: 4294967295 },
  dns: { servers: ["10.96.0.10"], searches: ["svc"], options: ["ndots:5"] },
};

test("formatCniArgs keeps order and joins with ';'", () => {
  assert.equal(formatCniArgs(undefined), "");
  assert.equal(formatCniArgs({ IgnoreUnknown: "1", K8S_POD_NAME: "p" }), "IgnoreUnknown=1;K8S_POD_NAME=p");
  assert.equal(formatCniArgs([["B", "2"], ["A", "1"]]), "B=2;A=1");
});

test("podCniArgs gives kubelet's pod identity with IgnoreUnknown first", () => {
  const config = create(PodSandboxConfigSchema, { metadata: { name: "web", namespace: "prod", uid: "u-1", attempt: 0 } });
  assert.equal(
    formatCniArgs(podCniArgs("sb123", config)),
    "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sb123;K8S_POD_UID=u-1",
  );
});

test("buildPluginEnv sets every CNI variable over the inherited environment", () => {
  const env = buildPluginEnv(
    { command: "ADD", containerId: "sb1", netns: "/run/netns/cni-1", ifName: "eth0", args: { IgnoreUnknown: "1" }, binDirs: ["/opt/cni/bin", "/usr/lib/cni"] },
    { PATH: "/usr/bin", CNI_ARGS: "leaked=1", CNI_NETNS: "/leaked" },
  );
  assert.deepEqual(env, {
    PATH: "/usr/bin",
    CNI_COMMAND: "ADD",
    CNI_CONTAINERID: "sb1",
    CNI_NETNS: "/run/netns/cni-1",
    CNI_IFNAME: "eth0",
    CNI_ARGS: "IgnoreUnknown=1",
    CNI_PATH: "/opt/cni/bin:/usr/lib/cni",
  });
});

test("runtimeConfigFor passes only the capabilities a plugin declares", () => {
  const cases: [number, CapabilityArgs | undefined, unknown][] = [
    [0, CAPS, undefined],
    [1, CAPS, { portMappings: CAPS.portMappings }],
    [2, CAPS, { bandwidth: CAPS.bandwidth }],
    [3, CAPS, { dns: CAPS.dns }],
    [3, { ...CAPS, cgroupPath: "/kubepods/pod1" }, { dns: CAPS.dns, cgroupPath: "/kubepods/pod1" }],
    [1, {}, undefined],
    [1, undefined, undefined],
  ];
  for (const [i, caps, want] of cases) assert.deepEqual(runtimeConfigFor(LIST.plugins[i]!, caps), want, `plugin ${i}`);
});

test("buildPluginStdin injects name, cniVersion, prevResult and runtimeConfig", () => {
  const prev = { cniVersion: "1.0.0", ips: [{ address: "10.0.0.2/24" }] };
  const bridge = JSON.parse(buildPluginStdin(LIST, LIST.plugins[0]!, undefined, CAPS));
  // The list's name and version win over the plugin's; a declared-nothing plugin keeps
  // whatever runtimeConfig its file had (libcni only overwrites when it injects one).
  assert.deepEqual(bridge, { type: "bridge", bridge: "cni0", name: "crib", cniVersion: "1.0.0", runtimeConfig: { stale: true } });
  const portmap = JSON.parse(buildPluginStdin(LIST, LIST.plugins[1]!, prev, CAPS));
  assert.deepEqual(portmap, {
    type: "portmap",
    capabilities: { portMappings: true },
    name: "crib",
    cniVersion: "1.0.0",
    prevResult: prev,
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] },
  });
  // The plugin's own object is not modified.
  assert.equal(LIST.plugins[1]!.raw.prevResult, undefined);
});

test("validateAttachment applies libcni's name rules", () => {
  const cases: [string, string, string, RegExp | undefined][] = [
    ["abc123", "crib", "eth0", undefined],
    ["a.b_c-d", "net.1", "lo", undefined],
    ["", "crib", "eth0", /missing containerID/],
    ["-bad", "crib", "eth0", /invalid characters in containerID/],
    ["ok", "bad name", "eth0", /network name/],
    ["ok", "crib", "", /empty/],
    ["ok", "crib", "a-very-long-ifname", /too long/],
    ["ok", "crib", "..", /\. or \.\./],
    ["ok", "crib", "eth/0", /whitespace/],
    ["ok", "crib", "eth 0", /whitespace/],
  ];
  for (const [id, net, ifn, want] of cases) {
    const got = validateAttachment(id, net, ifn);
    if (want) assert.match(got ?? "", want, `${id} ${net} ${ifn}`);
    else assert.equal(got, undefined);
  }
});

test("toCniPortMappings keeps mappings with a host port, protocol in lower case", () => {
  const config = create(PodSandboxConfigSchema, {
    portMappings: [
      { protocol: Protocol.TCP, containerPort: 80, hostPort: 8080 },
      { protocol: Protocol.UDP, containerPort: 53, hostPort: 5353, hostIp: "127.0.0.1" },
      { protocol: Protocol.SCTP, containerPort: 9, hostPort: 9009 },
      { protocol: Protocol.TCP, containerPort: 443, hostPort: 0 },
    ],
  });
  assert.deepEqual(toCniPortMappings(config.portMappings), [
    { hostPort: 8080, containerPort: 80, protocol: "tcp" },
    { hostPort: 5353, containerPort: 53, protocol: "udp", hostIP: "127.0.0.1" },
    { hostPort: 9009, containerPort: 9, protocol: "sctp" },
  ]);
});

test("podCapabilityArgs builds containerd's capability set for a pod", () => {
  const config = create(PodSandboxConfigSchema, {
    annotations: { "kubernetes.io/ingress-bandwidth": "10M", team: "a" },
    portMappings: [{ protocol: Protocol.TCP, containerPort: 80, hostPort: 8080 }],
    dnsConfig: { servers: ["10.96.0.10"], searches: ["ns.svc"], options: ["ndots:5"] },
    linux: { cgroupParent: "/kubepods/besteffort/pod1" },
  });
  assert.deepEqual(podCapabilityArgs(config), {
    "io.kubernetes.cri.pod-annotations": { "kubernetes.io/ingress-bandwidth": "10M", team: "a" },
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    bandwidth: { ingressRate: 10_000_000, ingressBurst: 4294967295 },
    dns: { servers: ["10.96.0.10"], searches: ["ns.svc"], options: ["ndots:5"] },
    cgroupPath: "/kubepods/besteffort/pod1",
  });
  assert.deepEqual(podCapabilityArgs(create(PodSandboxConfigSchema, {})), { "io.kubernetes.cri.pod-annotations": {} });
  assert.throws(
    () => podCapabilityArgs(create(PodSandboxConfigSchema, { annotations: { "kubernetes.io/egress-bandwidth": "10" } })),
    /reading pod bandwidth annotations: resource is unreasonably small \(< 1kbit\)/,
  );
});

test("parseQuantityValue reads Kubernetes quantities, rounding up", () => {
  const cases: [string, number][] = [
    ["1k", 1000],
    ["10M", 10_000_000],
    ["1.5G", 1_500_000_000],
    ["1Ki", 1024],
    ["2Mi", 2 * 1024 * 1024],
    ["1e3", 1000],
    ["1E6", 1_000_000],
    ["100", 100],
    ["1500m", 2],
    ["0.1", 1],
    ["1P", 1e15],
    [".5k", 500],
  ];
  for (const [s, want] of cases) assert.equal(parseQuantityValue(s), want, s);
  for (const bad of ["", "abc", "1x", "1.2.3", "1 k", "k"]) assert.throws(() => parseQuantityValue(bad), /quantit/, bad);
});

test("podBandwidth validates the range like containerd", () => {
  assert.equal(podBandwidth(undefined), undefined);
  assert.equal(podBandwidth({ other: "x" }), undefined);
  assert.deepEqual(podBandwidth({ "kubernetes.io/egress-bandwidth": "1M" }), { egressRate: 1_000_000, egressBurst: 4294967295 });
  assert.throws(() => podBandwidth({ "kubernetes.io/ingress-bandwidth": "2P" }), /unreasonably large \(> 1Pbit\)/);
  assert.throws(() => podBandwidth({ "kubernetes.io/ingress-bandwidth": "lots" }), /reading pod bandwidth annotations: quantities must match/);
});
