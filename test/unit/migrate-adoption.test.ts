// What `crib migrate check` and the start-up guard conclude from an inventory of
// containerd's CRI records and where their files are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assessAdoption, criDirFlags, formatReport, refusalReason } from "../../src/migrate/adoption.js";
import type { ContainerFacts, Inventory, PodFacts } from "../../src/migrate/inventory.js";

const CRI = { root: "/var/lib/containerd/io.containerd.grpc.v1.cri", state: "/run/containerd/io.containerd.grpc.v1.cri" };
const OWN = { root: "/var/lib/crib", state: "/run/crib" };

const pod = (id: string, crib: boolean, cri: boolean, hostIpc = false): PodFacts => ({ id, name: `${id}_default_uid_0`, hostIpc, task: "running", filesIn: { crib, cri } });
const ctr = (id: string, podId: string, task: ContainerFacts["task"], crib: boolean, cri: boolean): ContainerFacts => ({
  id,
  name: `${id}_${podId}_default_uid_0`,
  podId,
  task,
  statusIn: { crib, cri },
});
const inv = (crib: typeof OWN, pods: PodFacts[], containers: ContainerFacts[], unreadable: string[] = []): Inventory => ({
  namespace: "k8s.io",
  crib,
  cri: CRI,
  pods,
  containers,
  unreadable,
});

const cases = [
  {
    name: "crib on containerd's CRI dirs: everything carries over",
    inv: inv(CRI, [pod("p1", true, true)], [ctr("c1", "p1", "running", true, true), ctr("c2", "p1", "stopped", true, true)]),
    full: { pods: 1, containers: 2 },
    lost: [] as string[],
    refuses: false,
    criDirsHoldMore: false,
  },
  {
    name: "crib on its own dirs in front of containerd's CRI pods: pod files and statuses lost",
    inv: inv(OWN, [pod("p1", false, true), pod("p2", false, true, true)], [ctr("c1", "p1", "running", false, true), ctr("c2", "p1", "stopped", false, true)]),
    full: { pods: 0, containers: 0 },
    lost: ["pod p1: hostname", "pod p1: its /dev/shm", "pod p2: hostname", "container c1: status checkpoint", "container c2: status checkpoint"],
    refuses: true,
    criDirsHoldMore: true,
  },
  {
    name: "crib's own pods on its own dirs: nothing to refuse",
    inv: inv(OWN, [pod("p1", true, false)], [ctr("c1", "p1", "stopped", true, false)]),
    full: { pods: 1, containers: 1 },
    lost: [],
    refuses: false,
    criDirsHoldMore: false,
  },
  {
    name: "a container of crib's own pod without its status (a crash in CreateContainer) is reported, not refused",
    inv: inv(OWN, [pod("p1", true, false)], [ctr("c1", "p1", "none", false, false)]),
    full: { pods: 1, containers: 0 },
    lost: ["container c1: status checkpoint"],
    refuses: false,
    criDirsHoldMore: false,
  },
];

for (const c of cases) {
  test(c.name, () => {
    const a = assessAdoption(c.inv);
    assert.deepEqual(a.full, c.full);
    const lost = a.losses.flatMap((l) => l.lost.map((w) => `${l.kind} ${l.id}: ${w}`));
    assert.equal(lost.length, c.lost.length, lost.join("\n"));
    c.lost.forEach((prefix, i) => assert.ok(lost[i]!.startsWith(prefix), `${lost[i]} starts with ${prefix}`));
    assert.equal(refusalReason(c.inv, a) !== undefined, c.refuses);
    assert.equal(a.criDirsHoldMore, c.criDirsHoldMore);
  });
}

test("the refusal names the pods, the losses, the dirs to use and the override", () => {
  const i = inv(OWN, [pod("p1", false, true)], [ctr("c1", "p1", "stopped", false, true)]);
  const reason = refusalReason(i, assessAdoption(i))!;
  assert.match(reason, /1 pod\(s\) in namespace k8s.io have no files under root_dir \/var\/lib\/crib: p1_default_uid_0 \(p1\)/);
  assert.match(reason, /CONTAINER_UNKNOWN/);
  assert.ok(reason.includes(`start crib with ${criDirFlags(i)}`));
  assert.match(reason, /--adopt-partial \(config adopt_partial = true\)/);
});

test("a stopped container's loss says its exit code goes; a running one's its start time", () => {
  const i = inv(OWN, [pod("p1", true, false)], [ctr("run", "p1", "running", false, false), ctr("done", "p1", "stopped", false, false)]);
  const [run, done] = assessAdoption(i).losses;
  assert.match(run!.lost[0]!, /its start time lost/);
  assert.match(done!.lost[0]!, /its exit code, reason and times lost/);
});

test("the report lists records, verdict and flags", () => {
  const i = inv(OWN, [pod("p1", false, true)], [ctr("c1", "p1", "running", false, true)], ["broken"]);
  const text = formatReport(i, assessAdoption(i), { containerdAddress: "/run/containerd/containerd.sock", containerdVersion: "2.1.9", criPluginLoaded: true });
  assert.match(text, /^containerd 2.1.9 at \/run\/containerd\/containerd.sock, namespace k8s.io$/m);
  assert.match(text, /^ {2}p1 {2}p1_default_uid_0 {2}ready {2}files in containerd's CRI dirs only$/m);
  assert.match(text, /^ {2}c1 {2}c1_p1_default_uid_0 {2}task running {2}pod p1 {2}status in containerd's CRI dirs only$/m);
  assert.match(text, /^would adopt fully: 0 pod\(s\), 0 container\(s\)$/m);
  assert.match(text, /^ {2}broken: no readable CRI metadata, left alone$/m);
  assert.match(text, /containerd's own CRI plugin is loaded: stop the kubelet/);
  assert.match(text, /crib would refuse to start on root_dir \/var\/lib\/crib/);
  assert.ok(text.endsWith(`flags to start crib on containerd's CRI dirs: --namespace k8s.io --root-dir ${CRI.root} --state-dir ${CRI.state}\n`));
});
