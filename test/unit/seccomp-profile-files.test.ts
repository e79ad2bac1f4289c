// Reading Localhost seccomp profiles: what the spec builders get, and the INVALID_ARGUMENT
// (naming the path) for every file that cannot be a profile, found before anything is made.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, CriError } from "../../src/errors.js";
import { SecurityProfile_ProfileType as ProfileType } from "../../src/gen/runtime/v1/api_pb.js";
import { readSeccompProfiles } from "../../src/oci/seccomp-profile-files.js";

const PROFILE = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod"],"action":"SCMP_ACT_ERRNO"}]}';
const localhost = (ref: string) => ({ seccomp: { profileType: ProfileType.Localhost, localhostRef: ref }, seccompProfilePath: "", privileged: false });

test("readSeccompProfiles reads the named profile, in both forms; nothing for other profiles or privileged", async () => {
  const dir = mkdtempSync(join(tmpdir(), "crib-seccomp-"));
  try {
    const good = join(dir, "good.json");
    writeFileSync(good, PROFILE);
    assert.deepEqual(await readSeccompProfiles(localhost(good), ""), { [good]: PROFILE });
    assert.deepEqual(await readSeccompProfiles({ seccompProfilePath: `localhost/${good}`, privileged: false }, ""), { [good]: PROFILE });
    assert.deepEqual(await readSeccompProfiles({ seccompProfilePath: "", privileged: false }, `localhost/${good}`), { [good]: PROFILE }, "unset_seccomp_profile");
    assert.deepEqual(await readSeccompProfiles({ ...localhost(join(dir, "missing.json")), privileged: true }, ""), {}, "privileged reads nothing");
    assert.deepEqual(await readSeccompProfiles({ seccompProfilePath: "runtime/default", privileged: false }, ""), {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readSeccompProfiles refuses missing, relative, non-regular and malformed profiles with INVALID_ARGUMENT naming the path", async () => {
  const dir = mkdtempSync(join(tmpdir(), "crib-seccomp-"));
  try {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{not json");
    const cases: [string, string, RegExp][] = [
      ["missing", join(dir, "missing.json"), /no such file/],
      ["relative", "profiles/x.json", /must be an absolute path/],
      ["directory", dir, /not a regular file/],
      ["fifo (would block a threadpool thread)", fifo, /not a regular file/],
      ["malformed", bad, /decoding seccomp profile failed/],
    ];
    for (const [what, path, why] of cases) {
      await assert.rejects(readSeccompProfiles(localhost(path), ""), (e: unknown) => {
        assert.ok(e instanceof CriError && e.code === Code.INVALID_ARGUMENT, `${what}: ${String(e)}`);
        assert.ok(e.message.includes(`"${path}"`), `${what}: names the path: ${e.message}`);
        assert.match(e.message, why, what);
        return true;
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
