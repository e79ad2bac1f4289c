// The one rollback pattern of RunPodSandbox and CreateContainer: withUndo (the undo stack
// run on failure) and withRunLease (the run lease made, the step run, the lease released:
// not waited for on success, waited for on failure, never when it was not made).
import { test } from "node:test";
import assert from "node:assert/strict";
import { withUndo } from "../../src/common/undo.js";
import { withRunLease } from "../../src/containerd/run-lease.js";
import type { Containerd } from "../../src/containerd/client.js";
import { silentLogger } from "../../src/log.js";

const logger = silentLogger();

/** A fake Leases client that logs calls and settles each when told. */
function fakeLeases(opts: { createFails?: boolean } = {}) {
  const log: string[] = [];
  const pending: (() => void)[] = [];
  const call = (what: string, fail: boolean) => {
    log.push(`${what} sent`);
    return new Promise((resolve, reject) =>
      pending.push(() => {
        log.push(`${what} done`);
        if (fail) reject(new Error(`${what} failed`));
        else resolve({});
      }),
    );
  };
  const leases = {
    create: (req: { id: string; labels: Record<string, string> }) => {
      assert.ok(Date.parse(req.labels["containerd.io/gc.expire"]!) > Date.now(), "the lease expires by itself");
      return call(`create ${req.id}`, opts.createFails ?? false);
    },
    delete: (req: { id: string; sync: boolean }) => {
      assert.equal(req.sync, false);
      return call(`delete ${req.id}`, false);
    },
  } as unknown as Containerd["leases"];
  const settleAll = async () => {
    await new Promise((r) => setImmediate(r));
    while (pending.length > 0) pending.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { leases, log, settleNext: () => pending.shift()!(), settleAll };
}

const tick = () => new Promise((r) => setImmediate(r));

test("withRunLease: create is sent before the step starts; on success the release is sent but not waited for", async () => {
  const f = fakeLeases();
  const run = withRunLease(f.leases, "c1", async (lease) => {
    f.log.push(`step starts (${lease.id})`);
    await lease.ready;
    f.log.push("step uses the lease");
    return 7;
  });
  await tick();
  f.settleNext(); // the lease is made
  assert.equal(await run, 7); // returns while the delete is still in flight
  assert.deepEqual(f.log, ["create crib-run-c1 sent", "step starts (crib-run-c1)", "create crib-run-c1 done", "step uses the lease", "delete crib-run-c1 sent"]);
  await f.settleAll();
});

test("withRunLease: on failure the release is waited for before the error goes on", async () => {
  const f = fakeLeases();
  let failedAt = "";
  const run = withRunLease(f.leases, "c2", async (lease) => {
    await lease.ready;
    throw new Error("prepare failed");
  }).catch((e: Error) => {
    failedAt = f.log.at(-1)!;
    throw e;
  });
  await tick();
  f.settleNext(); // created
  await tick();
  assert.deepEqual(f.log, ["create crib-run-c2 sent", "create crib-run-c2 done", "delete crib-run-c2 sent"]);
  assert.equal(failedAt, "");
  f.settleNext(); // deleted
  await assert.rejects(run, /prepare failed/);
  assert.equal(failedAt, "delete crib-run-c2 done");
});

test("withRunLease: a lease that could not be made is not released, and its error is the step's", async () => {
  const f = fakeLeases({ createFails: true });
  const run = withRunLease(f.leases, "c3", async (lease) => {
    await lease.ready;
    return "unreached";
  });
  await tick();
  f.settleNext();
  await assert.rejects(run, /create crib-run-c3 failed/);
  await f.settleAll();
  assert.deepEqual(f.log, ["create crib-run-c3 sent", "create crib-run-c3 done"]);
});

test("withUndo: undos run newest first on failure (all of them, even after one fails), none on success", async () => {
  const ran: string[] = [];
  const ok = await withUndo(logger, {}, async (undo) => {
    undo.push("a", async () => ran.push("a"));
    return "made";
  });
  assert.equal(ok, "made");
  assert.equal(ran.length, 0);
  await assert.rejects(
    withUndo(logger, { podSandboxId: "p" }, async (undo) => {
      undo.push("release name", async () => ran.push("release name"));
      undo.push("broken", async () => {
        ran.push("broken");
        throw new Error("undo failed");
      });
      undo.push("remove snapshot", async () => ran.push("remove snapshot"));
      throw new Error("step failed");
    }),
    /step failed/,
  );
  assert.deepEqual(ran, ["remove snapshot", "broken", "release name"]);
});
