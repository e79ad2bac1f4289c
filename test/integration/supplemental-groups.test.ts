// SupplementalGroupsPolicy (KEP-3619) and ContainerStatus.user. The fixture image
// busybox-user runs as crib (1234:1234), and its /etc/group makes crib a member of
// crib-extra (5000). Merge (the default) adds the image's groups to the requested ones;
// Strict uses only the request's plus the primary gid. Asserted: Status advertises the
// feature, the real groups of the container's first process (/proc/<pid>/status) and of
// an exec'd one (`id -G`), and the user ContainerStatus reports, as cri-tools checks them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { status as Code } from "@grpc/grpc-js";
import { SupplementalGroupsPolicy } from "../../src/gen/runtime/v1/api_pb.js";
import { codeOfCall } from "../client/cri-client.js";
import { CRIB_EXTRA_GID, CRIB_GID, CRIB_UID } from "../harness/rootfs.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { containerConfig, createContainer, exec, runPod, startRunning, type ContainerInit, type Pod } from "./helpers/pod-helpers.js";

const REQUESTED_GROUP = 4321;

/** Effective uid, gid and the groups of a process, as the kernel has them. */
function procIdentity(pid: number): { uid: number; gid: number; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const ids = (field: string) => (new RegExp(`^${field}:\\s*(.*)$`, "m").exec(status)?.[1] ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
  // Uid/Gid lines: real, effective, saved, filesystem.
  return { uid: ids("Uid")[1]!, gid: ids("Gid")[1]!, groups: ids("Groups").sort((a, b) => a - b) };
}

describe("SupplementalGroupsPolicy", () => {
  let t: TestCrib;
  let image: string;
  let pod: Pod;
  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true });
    image = t.harness.images.busyboxUser;
    await t.client.image.pullImage({ image: { image } });
    pod = await runPod(t);
  });
  after(async () => {
    await t.removeAllPods();
    await t.stop();
  });

  const groupsContainer = (name: string, securityContext: NonNullable<ContainerInit["linux"]>["securityContext"]) =>
    containerConfig(name, image, { command: ["sh", "-c", "sleep 300"], linux: { securityContext } });

  async function identities(id: string) {
    const res = await t.client.runtime.containerStatus({ containerId: id, verbose: true });
    const pid = (JSON.parse(res.info["info"]!) as { pid: number }).pid;
    const u = res.status!.user?.linux;
    assert.ok(u, "ContainerStatus.user.linux is set");
    const reported = { uid: Number(u.uid), gid: Number(u.gid), groups: u.supplementalGroups.map(Number).sort((a, b) => a - b) };
    const execGroups = (await exec(t, id, ["id", "-G"])).stdout.trim().split(/\s+/).map(Number).sort((a, b) => a - b);
    return { reported, process: procIdentity(pid), execGroups };
  }

  it("Status advertises supplemental_groups_policy", async () => {
    assert.equal((await t.client.runtime.status({})).features?.supplementalGroupsPolicy, true);
  });

  const cases: { name: string; policy?: SupplementalGroupsPolicy; runAsUser?: boolean; groups: number[] }[] = [
    // The image's USER, default policy (Merge): crib-extra from the image's /etc/group is added.
    { name: "merge-image-user", groups: [CRIB_GID, REQUESTED_GROUP, CRIB_EXTRA_GID] },
    { name: "merge-run-as-user", policy: SupplementalGroupsPolicy.Merge, runAsUser: true, groups: [CRIB_GID, REQUESTED_GROUP, CRIB_EXTRA_GID] },
    // Strict: only the request's groups and the primary gid.
    { name: "strict-image-user", policy: SupplementalGroupsPolicy.Strict, groups: [CRIB_GID, REQUESTED_GROUP] },
    { name: "strict-run-as-user", policy: SupplementalGroupsPolicy.Strict, runAsUser: true, groups: [CRIB_GID, REQUESTED_GROUP] },
  ];
  for (const c of cases) {
    it(`${c.name}: the process runs with groups ${c.groups.join(",")}, and ContainerStatus says so`, async () => {
      const id = await startRunning(
        t,
        pod,
        groupsContainer(c.name, {
          supplementalGroups: [BigInt(REQUESTED_GROUP)],
          ...(c.policy !== undefined ? { supplementalGroupsPolicy: c.policy } : {}),
          ...(c.runAsUser ? { runAsUser: { value: BigInt(CRIB_UID) } } : {}),
        }),
      );
      const want = { uid: CRIB_UID, gid: CRIB_GID, groups: [...c.groups].sort((a, b) => a - b) };
      const got = await identities(id);
      assert.deepEqual(got.process, want, "the first process's identity (/proc/<pid>/status)");
      assert.deepEqual(got.reported, want, "ContainerStatus.user");
      assert.deepEqual(got.execGroups, want.groups, "`id -G` of an exec'd process");
      await t.client.runtime.removeContainer({ containerId: id });
    });
  }

  it("an unknown policy value is INVALID_ARGUMENT", async () => {
    const bad = groupsContainer("bad-policy", { supplementalGroupsPolicy: 7 as SupplementalGroupsPolicy });
    assert.equal(await codeOfCall(createContainer(t, pod, bad)), Code.INVALID_ARGUMENT);
    assert.deepEqual((await t.client.runtime.listContainers({})).containers, []);
  });
});
