// The instance lock without a daemon: which files are locked, and real flocks taken,
// refused and released in temp dirs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, CriError } from "../../src/errors.js";
import { lockInstance, lockTargets } from "../../src/server/instance-lock.js";

describe("instance lock", () => {
  it("locks one file per distinct path: the defaults' socket beside the state dir gets its own", () => {
    const t = lockTargets({ rootDir: "/var/lib/crib", stateDir: "/run/crib", listen: "/run/crib/crib.sock" });
    assert.deepEqual(
      t.map((x) => [x.what, x.lockFile]),
      [
        ["root dir", "/var/lib/crib/crib.lock"],
        ["state dir", "/run/crib/crib.lock"],
        ["socket", "/run/crib/crib.sock.lock"],
      ],
    );
  });

  it("root dir = state dir is locked once (a file locked twice by one crib would conflict with itself)", () => {
    const t = lockTargets({ rootDir: "/x/crib", stateDir: "/x/crib/", listen: "/x/crib.sock" });
    assert.deepEqual(
      t.map((x) => x.what),
      ["root dir", "socket"],
    );
  });

  it("a second lock on a shared path is refused with FAILED_PRECONDITION naming it; release frees it", async () => {
    const base = mkdtempSync(join(tmpdir(), "crib-lock-"));
    const dirs = { rootDir: join(base, "root"), stateDir: join(base, "state"), listen: join(base, "crib.sock") };
    const first = await lockInstance(dirs);
    try {
      const cases = [
        { over: { rootDir: join(base, "other-root") }, what: `state dir ${dirs.stateDir}` },
        { over: { stateDir: join(base, "other-state") }, what: `root dir ${dirs.rootDir}` },
        { over: { rootDir: join(base, "r2"), stateDir: join(base, "s2") }, what: `socket ${dirs.listen}` },
      ];
      for (const c of cases) {
        await assert.rejects(
          lockInstance({ ...dirs, ...c.over }),
          (e: unknown) => e instanceof CriError && e.code === Code.FAILED_PRECONDITION && e.message.includes(`another crib is using the ${c.what}`),
        );
      }
    } finally {
      await first.release();
    }
    const again = await lockInstance(dirs);
    await again.release();
  });
});
