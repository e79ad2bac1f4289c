// Everything a crib namespace can leave behind on the host and in containerd, counted:
// after the pods are removed (even following a crash) every list must be empty.
//
//   const scope = censusScope(t, { cgroupParents: ["/crib-crash/pod-1"] });
//   assert.deepEqual(await takeCensus(scope), emptyCensus());   // or assertCensusEmpty(scope)
//
// Processes and files are read from /proc and the file system directly (crib runs on the
// containerd host); containerd's own records through its API on the test's namespace.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, type Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import type { Containerd } from "../../../src/containerd/client.js";
import { cgroupMountPoints } from "../../../src/common/cgroup-leftovers.js";
import type { TestCrib } from "./start-crib.js";

export interface CensusScope {
  /** A containerd client on the test's namespace. */
  containerd: Containerd;
  namespace: string;
  snapshotter: string;
  /** crib's root_dir and state_dir. */
  rootDir: string;
  stateDir: string;
  /** containerd's state dir: task bundles (and their rootfs mounts) live below it. */
  containerdState?: string;
  /** Pod cgroup_parent values: nothing may be left below them (the parents are the kubelet's). */
  cgroupParents: string[];
  /** host-local's data dir and network name: every IP file there counts. */
  ipam?: { dataDir: string; network: string };
}

export interface Census {
  /** "pid id" of containerd-shim-* processes serving the namespace. */
  shims: string[];
  /** cgroup dirs below a pod's cgroup parent, in any hierarchy ("memory:/p/<id>"). */
  cgroups: string[];
  /** mount points under crib's dirs or the namespace's task bundles. */
  mounts: string[];
  /** pinned network namespaces (crib's netns dir). */
  netns: string[];
  leases: string[];
  containers: string[];
  /** active (non-committed) snapshots: container rootfs. */
  snapshots: string[];
  sandboxes: string[];
  /** host-local IP allocation files ("10.88.1.5 <owner id>"). */
  ipAllocations: string[];
  /** FIFOs anywhere under crib's dirs (but its exec FIFO pool). */
  fifos: string[];
  /** per-pod and per-container dirs under crib's dirs. */
  stateDirs: string[];
}

export function emptyCensus(): Census {
  return { shims: [], cgroups: [], mounts: [], netns: [], leases: [], containers: [], snapshots: [], sandboxes: [], ipAllocations: [], fifos: [], stateDirs: [] };
}

/** The scope of an in-process test crib (see start-crib.ts). */
export function censusScope(t: TestCrib, opts: { cgroupParents: string[] }): CensusScope {
  return {
    containerd: t.containerd,
    namespace: t.config.namespace,
    snapshotter: t.config.snapshotter,
    rootDir: t.config.rootDir,
    stateDir: t.config.stateDir,
    containerdState: t.harness.containerd.state,
    cgroupParents: opts.cgroupParents,
    ipam: { dataDir: t.harness.cni.ipamDataDir, network: t.harness.cni.networkName },
  };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** argv of a process, or undefined when it is gone. */
function argvOf(pid: string): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Shim processes of a namespace: `containerd-shim-runc-v2 -namespace <ns> -id <id> -address ...`. */
export function shimProcesses(namespace: string): string[] {
  const out: string[] = [];
  for (const pid of listDir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = argvOf(pid);
    if (!argv?.[0] || !basename(argv[0]).startsWith("containerd-shim")) continue;
    if (flag(argv, "-namespace") !== namespace) continue;
    out.push(`${pid} ${flag(argv, "-id") ?? "?"}`);
  }
  return out.sort();
}

function subdirs(dir: string, prefix: string, out: string[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    out.push(`${prefix}/${e.name}`);
    subdirs(join(dir, e.name), `${prefix}/${e.name}`, out);
  }
}

export function cgroupLeftovers(parents: string[]): string[] {
  const out: string[] = [];
  for (const mnt of cgroupMountPoints(readFileSync("/proc/self/mountinfo", "utf8"))) {
    for (const parent of parents) {
      const found: string[] = [];
      subdirs(join(mnt, parent), parent, found);
      for (const f of found) out.push(`${basename(mnt)}:${f}`);
    }
  }
  return out.sort();
}

/** Mount points under the prefixes, but for the ones crib keeps for itself (`except`). */
function mountsUnder(prefixes: string[], except: string[]): string[] {
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const point = line.split(" ")[4];
    if (!point || except.includes(point)) continue;
    if (prefixes.some((p) => point === p || point.startsWith(p + "/"))) out.push(point);
  }
  return out.sort();
}

async function walkFifos(dir: string, out: string[], except: string[]): Promise<void> {
  if (except.includes(dir)) return;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isFIFO()) out.push(p);
    else if (e.isDirectory()) await walkFifos(p, out, except);
  }
}

function ipAllocations(ipam: CensusScope["ipam"]): string[] {
  if (!ipam) return [];
  const dir = join(ipam.dataDir, ipam.network);
  if (!existsSync(dir)) return [];
  return listDir(dir)
    .filter((f) => /^[\d.]+$|:/.test(f) && !f.startsWith("last_reserved_ip"))
    .map((f) => {
      let owner = "";
      try {
        owner = readFileSync(join(dir, f), "utf8").split(/\s/)[0] ?? "";
      } catch {
        /* released meanwhile */
      }
      return `${f} ${owner}`;
    })
    .sort();
}

async function sandboxRecords(cd: Containerd): Promise<string[]> {
  try {
    return (await cd.sandboxStore.list({ filters: [] })).list.map((x) => x.sandboxId);
  } catch (e) {
    // containerd 1.6 has no Sandbox Store: there are no records to leave behind.
    if ((e as { code?: number }).code === Code.UNIMPLEMENTED) return [];
    throw e;
  }
}

export async function takeCensus(s: CensusScope): Promise<Census> {
  const cd = s.containerd;
  const snapshots: string[] = [];
  // Committed snapshots are image layers (kind 3); active ones are container rootfs.
  for await (const r of cd.snapshots.list({ snapshotter: s.snapshotter, filters: [] })) for (const i of r.info) if (i.kind !== 3) snapshots.push(i.name);
  // crib's own while it runs, not a pod's: the spare FIFO pools (exec sessions', and the
  // containers' and ExecSync's) and the netns dir, a shared mount point as `ip netns` makes it.
  const execPool = join(s.stateDir, "exec-fifos");
  const fifoPool = join(s.stateDir, "fifo-pool");
  const netnsDir = join(s.stateDir, "netns");
  const fifos: string[] = [];
  await walkFifos(s.rootDir, fifos, [execPool, fifoPool]);
  await walkFifos(s.stateDir, fifos, [execPool, fifoPool]);
  const bundles = s.containerdState ? [join(s.containerdState, "io.containerd.runtime.v2.task", s.namespace)] : [];
  return {
    shims: shimProcesses(s.namespace),
    cgroups: cgroupLeftovers(s.cgroupParents),
    mounts: mountsUnder([s.rootDir, s.stateDir, ...bundles], [netnsDir]),
    netns: listDir(join(s.stateDir, "netns")).sort(),
    leases: (await cd.leases.list({ filters: [] })).leases.map((l) => l.id).sort(),
    containers: (await cd.containers.list({ filters: [] })).containers.map((c) => c.id).sort(),
    snapshots: snapshots.sort(),
    sandboxes: (await sandboxRecords(cd)).sort(),
    ipAllocations: ipAllocations(s.ipam),
    fifos: fifos.sort(),
    stateDirs: [
      ...[s.rootDir, s.stateDir].flatMap((d) => ["sandboxes", "containers"].flatMap((k) => listDir(join(d, k)).map((id) => join(d, k, id)))),
      ...bundles.flatMap((b) => listDir(b).map((id) => join(b, id))),
    ].sort(),
  };
}

/** Asserts nothing is left; the message names every leftover. */
export async function assertCensusEmpty(s: CensusScope, context = ""): Promise<void> {
  const census = await takeCensus(s);
  assert.deepEqual(census, emptyCensus(), `leftovers${context ? ` ${context}` : ""}: ${JSON.stringify(census)}`);
}

/** Waits (bounded) for the census to empty: some clean-up goes on in the background. */
export async function awaitCensusEmpty(s: CensusScope, context = "", timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const census = await takeCensus(s);
    if (JSON.stringify(census) === JSON.stringify(emptyCensus()) || Date.now() > deadline) {
      assert.deepEqual(census, emptyCensus(), `leftovers${context ? ` ${context}` : ""}: ${JSON.stringify(census)}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
