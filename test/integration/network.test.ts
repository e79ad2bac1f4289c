// The network layer against the real kernel and Debian's CNI plugins (no containerd):
// two pinned namespaces wired to a bridge through bridge + host-local + portmap, reaching
// each other and a mapped port on 127.0.0.1, then torn down to nothing. Root only.
// Only 127.0.0.1 and addresses inside a private subnet that lives in these namespaces
// (and on the test's own bridge) are used; ipMasq is off, so nothing leaves the machine.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCniConfig, type NetworkConfigList } from "../../src/network/cni-config.js";
import { setupPodNetwork, teardownPodNetwork, type PodNetworkOptions, type PodNetworkSetup } from "../../src/network/cni.js";
import { createNetns, netnsExists, parseMountInfo, removeNetns } from "../../src/network/netns.js";
import { runCommand } from "../../src/io/run-command.js";

const BIN_DIR = "/usr/lib/cni";
const BRIDGE = "cribnt0";
const SUBNET_PREFIX = "10.88.99.";
const NETWORK = "crib-nettest";
const HOST_PORT = 18099;
const POD_PORT = 8099;

async function sh(file: string, args: string[], timeoutMs = 15_000) {
  const r = await runCommand(file, args, { timeoutMs });
  assert.equal(r.code, 0, `${file} ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A TCP server inside a namespace that answers every connection with `reply`. */
function serveInNetns(netns: string, port: number, reply: string) {
  const code = `require("net").createServer(s=>s.end(${JSON.stringify(reply)})).listen(${port},"0.0.0.0",()=>console.log("ready"))`;
  const ac = new AbortController();
  const done = runCommand("nsenter", [`--net=${netns}`, process.execPath, "-e", code], { timeoutMs: 60_000, signal: ac.signal }).catch(() => undefined);
  return { stop: async () => { ac.abort(); await done; } };
}

/** Connects from inside `netns` (or from the host when undefined) and returns what the server sent. */
async function fetchTcp(netns: string | undefined, host: string, port: number): Promise<string> {
  const code = `const s=require("net").connect(${port},${JSON.stringify(host)});let d="";s.on("data",c=>d+=c);s.on("end",()=>{process.stdout.write(d);process.exit(0)});s.on("error",e=>{console.error(e.message);process.exit(1)});setTimeout(()=>process.exit(2),3000)`;
  const [file, args] = netns ? ["nsenter", [`--net=${netns}`, process.execPath, "-e", code]] : [process.execPath, ["-e", code]];
  // The server may still be starting: retry for a few seconds.
  let last = "";
  for (let i = 0; i < 20; i++) {
    const r = await runCommand(file, args as string[], { timeoutMs: 10_000 });
    if (r.code === 0) return r.stdout;
    last = r.stderr;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`could not connect to ${host}:${port}${netns ? ` from ${netns}` : ""}: ${last}`);
}

function ipv4Of(addrOutput: string, ifName: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const line of addrOutput.split("\n")) {
    const head = /^\d+: ([^:@]+)/.exec(line);
    if (head) current = head[1]!;
    const inet = /^\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (inet && current === ifName) out.push(inet[1]!);
  }
  return out;
}

async function ping(fromNetns: string, ip: string): Promise<void> {
  const busybox = (await exists("/usr/bin/busybox")) || (await exists("/bin/busybox"));
  if (busybox) await sh("nsenter", [`--net=${fromNetns}`, "busybox", "ping", "-c1", "-W1", ip]);
  else await sh("nsenter", [`--net=${fromNetns}`, "ping", "-c1", "-W1", ip]);
}

async function iptablesRulesMentioning(text: string): Promise<string[]> {
  const r = await runCommand("iptables-save", [], { timeoutMs: 15_000 });
  return r.stdout.split("\n").filter((l) => l.includes(text));
}

describe("network layer against real CNI plugins", () => {
  let root = "";
  let netnsDir = "";
  let ipamDir = "";
  let cacheDir = "";
  let network: NetworkConfigList;
  const pods: { id: string; netns: string; setup?: PodNetworkSetup }[] = [];
  const servers: { stop: () => Promise<void> }[] = [];

  const podOptions = (id: string, netns: string): PodNetworkOptions => ({
    binDirs: [BIN_DIR],
    cacheDir,
    networks: [network],
    containerId: id,
    netnsPath: netns,
    args: [
      ["IgnoreUnknown", "1"],
      ["K8S_POD_NAMESPACE", "default"],
      ["K8S_POD_NAME", id],
      ["K8S_POD_INFRA_CONTAINER_ID", id],
      ["K8S_POD_UID", `uid-${id}`],
    ],
    capabilityArgs: id.endsWith("a") ? { portMappings: [{ hostPort: HOST_PORT, containerPort: POD_PORT, protocol: "tcp", hostIP: "127.0.0.1" }] } : {},
    timeoutMs: 30_000,
  });

  before(async () => {
    assert.equal(process.getuid?.(), 0, "this test creates namespaces, bridges and iptables rules: run it as root");
    for (const p of ["bridge", "host-local", "portmap", "loopback"]) {
      assert.ok(await exists(join(BIN_DIR, p)), `${BIN_DIR}/${p} missing: apt-get install containernetworking-plugins`);
    }
    root = await mkdtemp(join(tmpdir(), "crib-nettest-"));
    netnsDir = join(root, "netns");
    ipamDir = join(root, "ipam");
    cacheDir = join(root, "cni-cache");
    const confDir = join(root, "net.d");
    await mkdir(confDir, { recursive: true });
    await mkdir(ipamDir, { recursive: true });
    await writeFile(
      join(confDir, `10-${NETWORK}.conflist`),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: NETWORK,
        plugins: [
          {
            type: "bridge",
            bridge: BRIDGE,
            isGateway: true,
            ipMasq: false,
            ipam: { type: "host-local", ranges: [[{ subnet: `${SUBNET_PREFIX}0/24` }]], dataDir: ipamDir },
          },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      }),
    );
    const loaded = await loadCniConfig(confDir);
    assert.ok(loaded.config, loaded.config ? "" : loaded.loadStatus);
    network = loaded.config;
  });

  after(async () => {
    // Runs whatever happened above: nothing may outlive the test.
    for (const s of servers) await s.stop().catch(() => undefined);
    for (const p of pods) {
      await teardownPodNetwork(podOptions(p.id, p.netns)).catch(() => undefined);
      await removeNetns(p.netns).catch(() => undefined);
    }
    await runCommand("ip", ["link", "del", BRIDGE], { timeoutMs: 10_000 }).catch(() => undefined);
    if (netnsDir) {
      // createNetns made the directory a (shared) mount point, as `ip netns` does.
      for (let i = 0; i < 4; i++) await runCommand("umount", ["-l", netnsDir], { timeoutMs: 10_000 }).catch(() => undefined);
    }
    if (root) await rm(root, { recursive: true, force: true });
  });

  test("two pods get addresses, reach each other and a mapped port, and leave nothing behind", async () => {
    for (const id of ["nettest-a", "nettest-b"]) {
      const netns = await createNetns(netnsDir);
      pods.push({ id, netns });
      assert.ok(await netnsExists(netns), `${netns} is a pinned namespace`);
      assert.ok(netns.startsWith(join(netnsDir, "cni-")));
    }
    const mountinfo = parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
    const nsMount = mountinfo.find((m) => m.mountPoint === (pods[0]!.netns));
    assert.equal(nsMount?.fsType, "nsfs");
    assert.ok(mountinfo.find((m) => m.mountPoint === netnsDir)?.optionalFields.some((f) => f.startsWith("shared:")), "netns dir is a shared mount");

    for (const p of pods) p.setup = await setupPodNetwork(podOptions(p.id, p.netns));
    const [a, b] = pods as [Required<(typeof pods)[0]>, Required<(typeof pods)[0]>];

    for (const p of [a, b]) {
      assert.ok(p.setup.ip.startsWith(SUBNET_PREFIX), `pod ip ${p.setup.ip}`);
      assert.deepEqual(p.setup.additionalIps, []);
      const addrs = await sh("nsenter", [`--net=${p.netns}`, "ip", "-4", "addr"]);
      assert.deepEqual(ipv4Of(addrs, "eth0"), [p.setup.ip], addrs);
      // The loopback plugin ran: lo is up with 127.0.0.1.
      assert.deepEqual(ipv4Of(addrs, "lo"), ["127.0.0.1"], addrs);
      assert.equal(p.setup.result.interfaces.eth0?.sandbox, p.netns);
      assert.deepEqual(p.setup.attachments.map((x) => x.ifName), ["lo", "eth0"]);
    }
    assert.notEqual(a.setup.ip, b.setup.ip);

    // Pod to pod over the bridge.
    await ping(a.netns, b.setup.ip);
    await ping(b.netns, a.setup.ip);
    const serverB = serveInNetns(b.netns, POD_PORT, "hello from b");
    servers.push(serverB);
    assert.equal(await fetchTcp(a.netns, b.setup.ip, POD_PORT), "hello from b");

    // The portMappings capability reached portmap: 127.0.0.1:HOST_PORT on the host is pod a.
    const serverA = serveInNetns(a.netns, POD_PORT, "hello from a");
    servers.push(serverA);
    assert.equal(await fetchTcp(undefined, "127.0.0.1", HOST_PORT), "hello from a");
    assert.ok((await iptablesRulesMentioning(a.id)).length > 0, "portmap installed rules for pod a");

    for (const s of servers.splice(0)) await s.stop();

    // Teardown: CNI DEL, then the namespace.
    for (const p of [a, b]) {
      await teardownPodNetwork(podOptions(p.id, p.netns));
      await removeNetns(p.netns);
      assert.equal(await netnsExists(p.netns), false);
      assert.equal(await exists(p.netns), false);
      // Idempotent: DEL again with the namespace gone (CNI_NETNS=""), remove again.
      await teardownPodNetwork(podOptions(p.id, p.netns));
      await removeNetns(p.netns);
    }

    // Nothing left: no namespace mounts, no leases, no cache entries, no portmap rules.
    const after = parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
    assert.deepEqual(after.filter((m) => m.mountPoint.startsWith(netnsDir + "/")).map((m) => m.mountPoint), []);
    assert.deepEqual(await readdir(netnsDir), []);
    const leases = (await readdir(join(ipamDir, NETWORK))).filter((f) => f !== "lock" && !f.startsWith("last_reserved_ip"));
    assert.deepEqual(leases, []);
    assert.deepEqual(await readdir(join(cacheDir, "results")), []);
    for (const p of [a, b]) assert.deepEqual(await iptablesRulesMentioning(p.id), []);
    // The veth pairs went with the namespaces; only the bridge (removed in after()) stays.
    const links = await sh("ip", ["-o", "link", "show", "master", BRIDGE]);
    assert.equal(links.trim(), "");
  });
});
