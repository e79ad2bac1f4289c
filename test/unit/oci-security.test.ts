import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, CriError } from "../../src/errors.js";
import { SecurityProfile_ProfileType as ProfileType } from "../../src/gen/runtime/v1/api_pb.js";
import { applyCriCapabilities, capabilitiesFromMask, KNOWN_CAPABILITIES } from "../../src/oci/capabilities.js";
import { DEFAULT_UNIX_CAPS } from "../../src/oci/default-spec.js";
import { defaultSeccompProfile } from "../../src/oci/seccomp-default.js";
import {
  APPARMOR_DEFAULT_PROFILE,
  apparmorProfileFor,
  localhostSeccompPath,
  parseSeccompProfile,
  seccompFor,
} from "../../src/oci/security-profiles.js";

const defaults = () => ({ bounding: [...DEFAULT_UNIX_CAPS], effective: [...DEFAULT_UNIX_CAPS], permitted: [...DEFAULT_UNIX_CAPS] });
const host = ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"];
const hasCode = (code: Code) => (e: unknown) => e instanceof CriError && e.code === code;

test("CRI capabilities add and drop over the default set", () => {
  const cases: { name: string; add: string[]; drop: string[]; want: (caps: string[]) => void }[] = [
    {
      name: "add one, drop one",
      add: ["NET_ADMIN"],
      drop: ["NET_RAW"],
      want: (c) => {
        assert.ok(c.includes("CAP_NET_ADMIN"));
        assert.ok(!c.includes("CAP_NET_RAW"));
        assert.equal(c.length, DEFAULT_UNIX_CAPS.length);
      },
    },
    { name: "lower case names", add: ["sys_time"], drop: [], want: (c) => assert.ok(c.includes("CAP_SYS_TIME")) },
    { name: "drop ALL", add: [], drop: ["ALL"], want: (c) => assert.deepEqual(c, []) },
    { name: "drop all, add back one", add: ["NET_BIND_SERVICE"], drop: ["all"], want: (c) => assert.deepEqual(c, ["CAP_NET_BIND_SERVICE"]) },
    { name: "add ALL gives the host's set", add: ["ALL"], drop: [], want: (c) => assert.deepEqual(c, host) },
    { name: "add ALL, drop one", add: ["ALL"], drop: ["CHOWN"], want: (c) => assert.deepEqual(c, ["CAP_KILL", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]) },
    { name: "no duplicates", add: ["KILL"], drop: [], want: (c) => assert.equal(c.filter((x) => x === "CAP_KILL").length, 1) },
  ];
  for (const c of cases) {
    const caps = applyCriCapabilities(defaults(), { addCapabilities: c.add, dropCapabilities: c.drop }, host);
    c.want(caps.bounding ?? []);
    assert.deepEqual(caps.effective ?? [], caps.bounding ?? [], c.name);
    assert.deepEqual(caps.permitted ?? [], caps.bounding ?? [], c.name);
  }
  assert.deepEqual(applyCriCapabilities(defaults(), undefined, host), defaults());
});

test("capability masks decode like /proc/self/status", () => {
  assert.deepEqual(capabilitiesFromMask("0000000000000021"), ["CAP_CHOWN", "CAP_KILL"]);
  assert.deepEqual(capabilitiesFromMask("000001ffffffffff"), KNOWN_CAPABILITIES);
});

const settings = { seccompEnabled: true, unsetSeccompProfile: "", arch: "amd64" as const, kernelAtLeast4_8: true };
const ctx = (seccomp?: { profileType: ProfileType; localhostRef: string }, path = "", privileged = false) => ({
  seccomp,
  seccompProfilePath: path,
  privileged,
});

test("seccomp profile selection", () => {
  const rd = { profileType: ProfileType.RuntimeDefault, localhostRef: "" };
  assert.equal(seccompFor(ctx(), settings, DEFAULT_UNIX_CAPS), undefined, "unset means unconfined");
  assert.equal(seccompFor(ctx({ profileType: ProfileType.Unconfined, localhostRef: "" }), settings, DEFAULT_UNIX_CAPS), undefined);
  assert.equal(seccompFor(ctx(rd, "", true), settings, DEFAULT_UNIX_CAPS), undefined, "privileged gets none");
  assert.equal(seccompFor(ctx(rd), settings, DEFAULT_UNIX_CAPS)?.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(seccompFor(ctx(undefined, "runtime/default"), settings, DEFAULT_UNIX_CAPS)?.defaultAction, "SCMP_ACT_ERRNO");
  assert.ok(seccompFor(ctx(), { ...settings, unsetSeccompProfile: "runtime/default" }, DEFAULT_UNIX_CAPS));
  assert.throws(() => seccompFor(ctx(rd), { ...settings, seccompEnabled: false }, DEFAULT_UNIX_CAPS), hasCode(Code.FAILED_PRECONDITION));
  assert.throws(() => seccompFor(ctx(undefined, "bogus"), settings, DEFAULT_UNIX_CAPS), hasCode(Code.INVALID_ARGUMENT));
  assert.throws(
    () => seccompFor(ctx({ profileType: ProfileType.RuntimeDefault, localhostRef: "/x" }), settings, DEFAULT_UNIX_CAPS),
    hasCode(Code.INVALID_ARGUMENT),
  );

  const local = { profileType: ProfileType.Localhost, localhostRef: "/var/lib/kubelet/seccomp/audit.json" };
  assert.equal(localhostSeccompPath(ctx(local), ""), "/var/lib/kubelet/seccomp/audit.json");
  assert.equal(localhostSeccompPath(ctx(undefined, "localhost//p.json"), ""), "/p.json");
  const profile = `{"defaultAction":"SCMP_ACT_LOG","architectures":["SCMP_ARCH_X86_64"],
    "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"comment":"docker-only field"}]}`;
  const got = seccompFor(ctx(local), settings, DEFAULT_UNIX_CAPS, { "/var/lib/kubelet/seccomp/audit.json": profile });
  assert.deepEqual(got, {
    defaultAction: "SCMP_ACT_LOG",
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
  });
  assert.throws(() => seccompFor(ctx(local), settings, DEFAULT_UNIX_CAPS, {}), hasCode(Code.INVALID_ARGUMENT));
  // The CRI wants an absolute path; a relative one (or none) is refused, naming it.
  for (const ref of ["profiles/audit.json", ""]) {
    const rel = { profileType: ProfileType.Localhost, localhostRef: ref };
    assert.throws(() => seccompFor(ctx(rel), settings, DEFAULT_UNIX_CAPS, { [ref]: profile }), (e: unknown) =>
      hasCode(Code.INVALID_ARGUMENT)(e) && (e as Error).message.includes(`"${ref}" must be an absolute path`),
    );
  }
  assert.throws(() => parseSeccompProfile("{not json"), hasCode(Code.INVALID_ARGUMENT));
  assert.throws(() => parseSeccompProfile(`{"defaultAction": 3}`), hasCode(Code.INVALID_ARGUMENT));
  assert.equal(parseSeccompProfile(`{"DefaultAction":"SCMP_ACT_ALLOW"}`).defaultAction, "SCMP_ACT_ALLOW", "keys match case-insensitively");
});

test("the default seccomp profile follows the bounding capabilities", () => {
  const allowed = (caps: readonly string[], arch: "amd64" | "s390x" = "amd64") => {
    const p = defaultSeccompProfile(caps, { arch, kernelAtLeast4_8: true });
    return new Set(p.syscalls!.filter((s) => s.action === "SCMP_ACT_ALLOW" && !s.args).flatMap((s) => s.names));
  };
  const base = allowed(DEFAULT_UNIX_CAPS);
  for (const s of ["read", "write", "openat", "futex_wake"]) assert.ok(base.has(s), s);
  assert.ok(base.has("chroot"), "CAP_SYS_CHROOT is in the default set");
  assert.ok(base.has("arch_prctl"), "amd64 syscalls");
  assert.ok(!base.has("mount") && !base.has("unshare") && !base.has("io_uring_setup") && !base.has("keyctl"));
  const p = defaultSeccompProfile(DEFAULT_UNIX_CAPS, { arch: "amd64", kernelAtLeast4_8: true });
  assert.deepEqual(p.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  const clone3 = p.syscalls!.find((s) => s.names.includes("clone3"));
  assert.deepEqual(clone3, { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }, "ENOSYS so glibc falls back to clone");
  const clone = p.syscalls!.find((s) => s.names.includes("clone"));
  assert.deepEqual(clone!.args, [{ index: 0, value: 0x7e020000, op: "SCMP_CMP_MASKED_EQ" }]);
  assert.equal(defaultSeccompProfile([], { arch: "s390x", kernelAtLeast4_8: true }).syscalls!.find((s) => s.names[0] === "clone")!.args![0]!.index, 1);

  const admin = allowed([...DEFAULT_UNIX_CAPS, "CAP_SYS_ADMIN"]);
  assert.ok(admin.has("mount") && admin.has("clone3") && admin.has("unshare"));
  const adminProfile = defaultSeccompProfile(["CAP_SYS_ADMIN"], { arch: "amd64", kernelAtLeast4_8: true });
  assert.ok(!adminProfile.syscalls!.some((s) => s.action === "SCMP_ACT_ERRNO"), "no clone restrictions with CAP_SYS_ADMIN");
  assert.ok(!allowed([]).has("chroot"));
  assert.ok(allowed(["CAP_SYS_PTRACE"]).has("process_madvise"));
  assert.ok(!defaultSeccompProfile([], { arch: "amd64", kernelAtLeast4_8: false }).syscalls!.some((s) => s.names.includes("ptrace")));
});

test("AppArmor profile selection", () => {
  const on = { apparmorEnabled: true };
  const off = { apparmorEnabled: false };
  const none = { apparmorProfile: "", privileged: false };
  assert.equal(apparmorProfileFor(none, off), undefined);
  assert.equal(apparmorProfileFor(none, on), APPARMOR_DEFAULT_PROFILE, "unset means RuntimeDefault when the host has AppArmor");
  assert.equal(apparmorProfileFor({ ...none, privileged: true }, on), undefined);
  assert.equal(apparmorProfileFor({ apparmorProfile: "unconfined", privileged: false }, on), undefined);
  assert.equal(apparmorProfileFor({ apparmorProfile: "localhost/my-prof", privileged: false }, on), "my-prof");
  assert.equal(
    apparmorProfileFor({ apparmor: { profileType: ProfileType.Localhost, localhostRef: "my-prof" }, apparmorProfile: "", privileged: true }, on),
    "my-prof",
    "a Localhost profile applies even to privileged containers",
  );
  assert.throws(
    () => apparmorProfileFor({ apparmorProfile: "localhost/missing", privileged: false }, { apparmorEnabled: true, loadedApparmorProfiles: ["x"] }),
    hasCode(Code.INVALID_ARGUMENT),
  );
  assert.throws(() => apparmorProfileFor({ apparmorProfile: "runtime/default", privileged: false }, off), hasCode(Code.FAILED_PRECONDITION));
});
