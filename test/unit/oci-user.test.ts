import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, CriError } from "../../src/errors.js";
import { generateUserString, memberGids, mergeGids, parseGroup, parsePasswd, resolveUser } from "../../src/oci/user.js";

const passwd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

# comment lines and blank lines are skipped
app:x:1000:1001::/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const group = `root:x:0:
wheel:x:10:root,app
app:x:1001:app
audio:x:29:app,daemon
staff:x:50:
`;
const files = { passwd, group };
const isInvalidArgument = (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT;

test("passwd and group files parse like moby/sys/user", () => {
  assert.deepEqual(parsePasswd(passwd)[2], { name: "app", uid: 1000, gid: 1001, home: "/home/app" });
  assert.equal(parsePasswd(passwd).length, 4);
  assert.deepEqual(parseGroup(group)[1], { name: "wheel", gid: 10, members: ["root", "app"] });
  assert.deepEqual(parseGroup(group)[4]!.members, []);
});

test("user strings from the CRI security context", () => {
  const cases: { name: string; username: string; uid?: bigint; gid?: bigint; want: string }[] = [
    { name: "nothing", username: "", want: "" },
    { name: "uid", username: "", uid: 1000n, want: "1000" },
    { name: "uid:gid", username: "", uid: 1000n, gid: 50n, want: "1000:50" },
    { name: "username wins over uid", username: "app", uid: 5n, want: "app" },
    { name: "username:gid", username: "app", gid: 50n, want: "app:50" },
  ];
  for (const c of cases) assert.equal(generateUserString(c.username, c.uid, c.gid), c.want, c.name);
  assert.throws(() => generateUserString("", undefined, 5n), isInvalidArgument);
});

test("USER values resolve against the image's passwd and group", () => {
  const cases: { user: string; files: { passwd?: string; group?: string }; want: [number, number] }[] = [
    { user: "0", files, want: [0, 0] },
    { user: "1000", files, want: [1000, 1001] }, // numeric uid known to passwd: its primary gid
    { user: "4242", files, want: [4242, 0] }, // unknown uid: gid 0, no error
    { user: "4242", files: {}, want: [4242, 0] }, // no passwd file at all
    { user: "app", files, want: [1000, 1001] },
    { user: "app:staff", files, want: [1000, 50] },
    { user: "app:7", files, want: [1000, 7] },
    { user: "1000:staff", files, want: [1000, 50] },
    { user: "1000:7", files: {}, want: [1000, 7] }, // numeric pair needs no files
    { user: ":7", files: {}, want: [0, 7] },
  ];
  for (const c of cases) {
    const u = resolveUser(c.user, c.files);
    assert.deepEqual([u.uid, u.gid], c.want, c.user);
    assert.deepEqual(u.additionalGids, [c.want[1]], `${c.user}: primary gid listed`);
  }
});

test("bad or unknown users are INVALID_ARGUMENT", () => {
  for (const [user, f] of [
    ["ghost", files],
    ["app", {}],
    ["app:ghosts", files],
    ["1:2:3", files],
    ["-1", files],
    ["2147483648", files],
    ["1000:99999999999999999999", files],
  ] as const) {
    assert.throws(() => resolveUser(user, f), isInvalidArgument, user);
  }
});

test("member groups come from /etc/group membership, plus the primary gid", () => {
  assert.deepEqual(memberGids("app", 1001, files), [1001, 10, 29]); // not "app" itself: named like the user
  assert.deepEqual(memberGids("1000", 1001, files), [1001, 10, 29]); // uid looked up to a name
  assert.deepEqual(memberGids("4242", 0, files), [0]); // unknown uid
  assert.deepEqual(memberGids("root", 0, files), [0, 10]);
  assert.deepEqual(memberGids("app", 1001, { passwd }), [1001]); // no group file
  assert.deepEqual(mergeGids([1001, 10, 29], [1001, 5]), [5, 10, 29, 1001]);
  assert.equal(mergeGids([], undefined), undefined);
});
