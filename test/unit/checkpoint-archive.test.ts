// The checkpoint archive without CRIU: its layout (what checkpointctl and a restore read),
// config.dump's keys, all-or-nothing writing, and CRIU's reason picked from its output.
// checkpointctl (unpacked by scripts/install-deps.sh) reads the archive as a user would.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ContainerState, ContainerStatusSchema } from "../../src/gen/runtime/v1/api_pb.js";
import { messageToGo } from "../../src/containerd/go-json.js";
import { ARCHIVE, configDump, tarDirectory, writeArchive, writeDumpFiles } from "../../src/runtime/checkpoint-archive.js";
import { criuReason } from "../../src/runtime/criu-reason.js";

/** checkpointctl where the host has one that runs (Debian builds it only for glibc >= 2.38). */
const CHECKPOINTCTL = ["/usr/bin/checkpointctl", "/usr/local/bin/checkpointctl"].find((p) => spawnSync(p, ["--help"]).status === 0);
const ID = "4deed6eeac2191c2df4d46a19c88064342aaf8c49560f49d8f029fb807b5262e";

function tarList(file: string): string[] {
  const r = spawnSync("tar", ["-tf", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

async function fakeWorkDir(withRootfs: boolean): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "crib-ckpt-work-"));
  mkdirSync(join(work, ARCHIVE.checkpointDir));
  writeFileSync(join(work, ARCHIVE.checkpointDir, "inventory.img"), "criu image");
  const status = create(ContainerStatusSchema, {
    id: ID,
    metadata: { name: "sleeper", attempt: 1 },
    state: ContainerState.CONTAINER_RUNNING,
    createdAt: 1_700_000_000_123_456_789n,
    image: { image: "docker.io/library/busybox:1.36" },
    imageRef: "sha256:abc",
  });
  await writeDumpFiles(work, {
    spec: { ociVersion: "1.1.0", annotations: { "io.kubernetes.cri.container-name": "sleeper", "io.kubernetes.cri.sandbox-id": "pod1" }, process: { args: ["sleep", "3600"] } },
    config: configDump({
      id: ID,
      name: "sleeper_pod_default_uid_1",
      image: "docker.io/library/busybox:1.36",
      imageRef: "sha256:abc",
      runtime: "io.containerd.runc.v2",
      createdAtNs: 1_700_000_000_123_456_789n,
      checkpointedAt: new Date("2026-12-03T12:00:00Z"),
    }),
    status: messageToGo(ContainerStatusSchema, status as unknown as Record<string, unknown>),
  });
  if (withRootfs) {
    const upper = join(work, "upper");
    mkdirSync(join(upper, "tmp"), { recursive: true });
    writeFileSync(join(upper, "tmp/changed"), "x");
    await tarDirectory(upper, join(work, ARCHIVE.rootfsDiff));
  }
  writeFileSync(join(work, ARCHIVE.dumpLog), "(00.000001) Dumping finished successfully\n");
  return work;
}

describe("checkpoint archive", () => {
  it("config.dump has checkpointctl's ContainerConfig keys, filled as containerd fills them", () => {
    const d = configDump({ id: "c1", name: "n", image: "busybox:1", imageRef: "sha256:1", runtime: "io.containerd.runc.v2", createdAtNs: 1_000_000_000n, checkpointedAt: new Date(5000) });
    assert.deepEqual(d, {
      id: "c1",
      name: "n",
      rootfsImage: "busybox:1",
      rootfsImageName: "busybox:1",
      rootfsImageRef: "sha256:1",
      runtime: "io.containerd.runc.v2",
      createdTime: "1970-01-01T00:00:01.000Z",
      checkpointedTime: "1970-01-01T00:00:05.000Z",
    });
    assert.deepEqual(Object.keys(configDump({ id: "c", name: "n", image: "", imageRef: "", runtime: "", createdAtNs: 0n, checkpointedAt: new Date(0) })).sort(), [
      "checkpointedTime",
      "createdTime",
      "id",
      "name",
    ]);
  });

  it("the archive holds checkpoint/, the three dumps, the rootfs diff and dump.log", async () => {
    const work = await fakeWorkDir(true);
    const out = mkdtempSync(join(tmpdir(), "crib-ckpt-out-"));
    const location = join(out, "checkpoint.tar");
    await writeArchive(work, location);
    assert.deepEqual(readdirSync(out), ["checkpoint.tar"], "nothing but the archive is left beside it");
    const names = tarList(location);
    for (const n of ["checkpoint/", "checkpoint/inventory.img", "spec.dump", "config.dump", "status.dump", "rootfs-diff.tar", "dump.log"]) {
      assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
    }
    assert.ok(!names.some((n) => n.startsWith("upper")), "the work dir's other files stay out");
    const status = JSON.parse(spawnSync("tar", ["-xOf", location, "status.dump"], { encoding: "utf8" }).stdout);
    assert.equal(status.id, ID);
    assert.equal(status.metadata.name, "sleeper");
    assert.equal(status.state, ContainerState.CONTAINER_RUNNING);
  });

  it("checkpointctl reads the archive (where a checkpointctl runs on this host)", async (ctx) => {
    if (!CHECKPOINTCTL) {
      ctx.skip("no checkpointctl runs here (Debian builds it for glibc >= 2.38 only)");
      return;
    }
    const work = await fakeWorkDir(true);
    const out = mkdtempSync(join(tmpdir(), "crib-ckpt-out-"));
    const location = join(out, "checkpoint.tar");
    await writeArchive(work, location);
    const r = spawnSync(CHECKPOINTCTL, ["inspect", "--format", "json", location], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const [info] = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(info!["container_name"], "sleeper");
    assert.equal(info!["image"], "docker.io/library/busybox:1.36");
    assert.equal(info!["id"], ID);
    assert.equal(info!["runtime"], "io.containerd.runc.v2");
    assert.equal(info!["engine"], "containerd");
    assert.equal(info!["checkpointed"], "2026-12-03T12:00:00Z");
    const show = spawnSync(CHECKPOINTCTL, ["show", location], { encoding: "utf8" });
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /sleeper\s+docker\.io\/library\/busybox:1\.36\s+4deed6eeac21\s+io\.containerd\.runc\.v2/);
  });

  it("an incomplete work dir writes nothing at the location, not even a partial file", async () => {
    const work = await fakeWorkDir(false);
    writeFileSync(join(work, ARCHIVE.spec), "");
    rmSync(join(work, ARCHIVE.status));
    const out = mkdtempSync(join(tmpdir(), "crib-ckpt-out-"));
    await assert.rejects(writeArchive(work, join(out, "checkpoint.tar")), /lacks status\.dump/);
    assert.deepEqual(readdirSync(out), []);
    // tar failing (here: no directory to write into) leaves nothing behind either.
    const work2 = await fakeWorkDir(false);
    await assert.rejects(writeArchive(work2, join(out, "missing-dir", "checkpoint.tar")), /write the checkpoint archive/);
    assert.deepEqual(readdirSync(out), []);
  });

  it("CRIU's reason: its Error lines without timestamps, else its last lines", () => {
    const check = [
      "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds",
      "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable",
      "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.",
      "Error (criu/crtools.c:260): Could not initialize kernel features detection.",
      "Error (criu/crtools.c:261): one more",
    ].join("\n");
    assert.equal(
      criuReason(check),
      "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds; Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable; " +
        "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.; Error (criu/crtools.c:260): Could not initialize kernel features detection.",
    );
    const dumpLog = "(00.000010) Version: 3.17.1\n(00.001000) Dumping task 42\n(00.002000) Error (criu/sk-unix.c:144): unix: Can't dump external socket\n(00.003000) Dumping FAILED.\n";
    assert.equal(criuReason(dumpLog), "Error (criu/sk-unix.c:144): unix: Can't dump external socket");
    assert.equal(criuReason("line a\nline b\n\n"), "line a; line b");
  });
});
