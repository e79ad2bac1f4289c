import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, CriError } from "../../src/errors.js";
import { MountPropagation, NamespaceMode } from "../../src/gen/runtime/v1/api_pb.js";
import { criBaseSpec } from "../../src/oci/default-spec.js";
import {
  containerMounts,
  imageVolumeMounts,
  sandboxFileMounts,
  writableSysfsAndCgroupfs,
  type BindMountRequest,
  type MountSettings,
} from "../../src/oci/mounts.js";

const settings: MountSettings = {
  cgroupWritable: false,
  hostCgroupMountOptions: [],
  hasCgroupNamespace: false,
  recursiveReadOnlyMounts: false,
  hostPaths: {},
};
const defaults = () => criBaseSpec("c1").mounts!;
const bind = (containerPath: string, hostPath: string, more: Partial<BindMountRequest> = {}): BindMountRequest => ({
  containerPath,
  hostPath,
  readonly: false,
  selinuxRelabel: false,
  propagation: MountPropagation.PROPAGATION_PRIVATE,
  recursiveReadOnly: false,
  uidMappings: [],
  gidMappings: [],
  ...more,
});
const isCode = (code: Code) => (e: unknown) => e instanceof CriError && e.code === code;

test("propagation and readonly become bind mount options", () => {
  const cases: { name: string; m: BindMountRequest; options: string[]; rootfs?: string }[] = [
    { name: "private rw", m: bind("/data", "/srv/data"), options: ["rbind", "rprivate", "rw"] },
    { name: "private ro", m: bind("/data", "/srv/data", { readonly: true }), options: ["rbind", "rprivate", "ro"] },
    {
      name: "host to container",
      m: bind("/data", "/srv/data", { propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER }),
      options: ["rbind", "rslave", "rw"],
      rootfs: "rslave",
    },
    {
      name: "bidirectional",
      m: bind("/data", "/srv/data", { propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL }),
      options: ["rbind", "rshared", "rw"],
      rootfs: "rshared",
    },
  ];
  for (const c of cases) {
    const got = containerMounts(defaults(), [c.m], [], settings);
    const m = got.mounts.find((x) => x.destination === "/data")!;
    assert.deepEqual(m, { destination: "/data", type: "bind", source: "/srv/data", options: c.options }, c.name);
    assert.equal(got.rootfsPropagation, c.rootfs, c.name);
  }
  // rshared wins over rslave whatever the order.
  const both = containerMounts(
    defaults(),
    [
      bind("/a", "/a", { propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL }),
      bind("/b", "/b", { propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER }),
    ],
    [],
    settings,
  );
  assert.equal(both.rootfsPropagation, "rshared");
});

test("host path facts: symlinks resolved, propagation checked, rro rules", () => {
  const resolved = containerMounts(defaults(), [bind("/data", "/link")], [], { ...settings, hostPaths: { "/link": { resolvedPath: "/real" } } });
  assert.equal(resolved.mounts.at(-1)!.source, "/real");
  const bidi = bind("/data", "/p", { propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL });
  assert.throws(() => containerMounts(defaults(), [bidi], [], { ...settings, hostPaths: { "/p": { propagation: "slave" } } }), isCode(Code.FAILED_PRECONDITION));
  const slave = bind("/data", "/p", { propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER });
  assert.throws(() => containerMounts(defaults(), [slave], [], { ...settings, hostPaths: { "/p": { propagation: "private" } } }), isCode(Code.FAILED_PRECONDITION));
  containerMounts(defaults(), [slave], [], { ...settings, hostPaths: { "/p": { propagation: "slave" } } });

  const rro = bind("/data", "/p", { readonly: true, recursiveReadOnly: true });
  assert.throws(() => containerMounts(defaults(), [rro], [], settings), isCode(Code.INVALID_ARGUMENT));
  assert.deepEqual(containerMounts(defaults(), [rro], [], { ...settings, recursiveReadOnlyMounts: true }).mounts.at(-1)!.options, [
    "rbind",
    "rprivate",
    "rro",
  ]);
  assert.throws(() => containerMounts(defaults(), [bind("/d", "/p", { recursiveReadOnly: true })], [], settings), isCode(Code.INVALID_ARGUMENT));
  // A wrong rro request is INVALID_ARGUMENT (naming the host path) whatever the host's
  // propagation is, and whether or not the handler supports rro.
  const hostPrivate = { ...settings, hostPaths: { "/p": { propagation: "private" as const } } };
  for (const [why, m, message] of [
    ["writable", bind("/d", "/p", { recursiveReadOnly: true, propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL }), /conflicts with RW mount \(hostPath="\/p"\)/],
    ["bidirectional", bind("/d", "/p", { readonly: true, recursiveReadOnly: true, propagation: MountPropagation.PROPAGATION_BIDIRECTIONAL }), /needs private propagation, got "PROPAGATION_BIDIRECTIONAL" \(hostPath="\/p"\)/],
    ["host-to-container", bind("/d", "/p", { readonly: true, recursiveReadOnly: true, propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER }), /needs private propagation/],
  ] as const) {
    assert.throws(
      () => containerMounts(defaults(), [m], [], { ...hostPrivate, recursiveReadOnlyMounts: true }),
      (e: unknown) => isCode(Code.INVALID_ARGUMENT)(e) && message.test((e as Error).message),
      why,
    );
  }
  assert.throws(
    () => containerMounts(defaults(), [rro], [], hostPrivate),
    (e: unknown) => isCode(Code.INVALID_ARGUMENT)(e) && /does not support recursive read-only mounts \(hostPath="\/p"\)/.test((e as Error).message),
  );
});

test("bind mounts replace defaults at their destination and are ordered by depth", () => {
  const got = containerMounts(
    defaults(),
    [bind("/var/lib/data/cache", "/c"), bind("/dev/shm/", "/big-shm"), bind("/var", "/v")],
    [bind("/etc/hosts", "/pod/hosts"), bind("/var", "/ignored-because-cri-has-it")],
    settings,
  );
  assert.deepEqual(
    got.mounts.map((m) => `${m.destination}<-${m.source}`),
    [
      "/proc<-proc",
      "/dev<-tmpfs",
      "/dev/pts<-devpts",
      "/dev/mqueue<-mqueue",
      "/sys<-sysfs",
      "/sys/fs/cgroup<-cgroup",
      "/var<-/v",
      "/dev/shm/<-/big-shm",
      "/etc/hosts<-/pod/hosts",
      "/var/lib/data/cache<-/c",
    ],
  );
  assert.deepEqual(got.mounts.find((m) => m.type === "cgroup")!.options, ["nosuid", "noexec", "nodev", "relatime", "ro"]);
});

test("a bound /dev drops every default mount under /dev", () => {
  const got = containerMounts(defaults(), [bind("/dev", "/dev")], [], settings);
  assert.deepEqual(
    got.mounts.map((m) => m.destination),
    ["/proc", "/sys", "/sys/fs/cgroup", "/dev"],
  );
});

test("cgroup mount options: writable handler, host cgroup2 options without a cgroup namespace", () => {
  const w = containerMounts(defaults(), [], [], { ...settings, cgroupWritable: true, hostCgroupMountOptions: ["rw", "nsdelegate", "memory_recursiveprot"] });
  assert.deepEqual(w.mounts.find((m) => m.type === "cgroup")!.options, ["nosuid", "noexec", "nodev", "relatime", "rw", "nsdelegate", "memory_recursiveprot"]);
  const ns = containerMounts(defaults(), [], [], { ...settings, hasCgroupNamespace: true, hostCgroupMountOptions: ["nsdelegate"] });
  assert.deepEqual(ns.mounts.find((m) => m.type === "cgroup")!.options, ["nosuid", "noexec", "nodev", "relatime", "ro"]);
  const priv = writableSysfsAndCgroupfs(w.mounts);
  assert.ok(priv.find((m) => m.type === "sysfs")!.options!.includes("rw"));
});

test("pod files are mounted unless the container mounts the path itself", () => {
  const files = { hostname: "/r/hostname", hosts: "/r/hosts", resolvConf: "/r/resolv.conf", shm: "/s/shm" };
  const all = sandboxFileMounts([], files, false, NamespaceMode.POD);
  assert.deepEqual(
    all.map((m) => [m.containerPath, m.hostPath, m.readonly]),
    [
      ["/etc/hostname", "/r/hostname", false],
      ["/etc/hosts", "/r/hosts", false],
      ["/etc/resolv.conf", "/r/resolv.conf", false],
      ["/dev/shm", "/s/shm", false],
    ],
  );
  const ro = sandboxFileMounts([{ containerPath: "/etc/hosts/" }], files, true, NamespaceMode.NODE);
  assert.deepEqual(
    ro.map((m) => [m.containerPath, m.hostPath, m.readonly]),
    [
      ["/etc/hostname", "/r/hostname", true],
      ["/etc/resolv.conf", "/r/resolv.conf", true],
      ["/dev/shm", "/dev/shm", false], // host IPC: the host's /dev/shm
    ],
  );
  assert.deepEqual(sandboxFileMounts([], { hosts: "/r/hosts" }, false, NamespaceMode.POD).map((m) => m.containerPath), ["/etc/hosts"]);
});

test("image volumes become empty bind mounts unless the CRI config covers them", () => {
  let n = 0;
  const got = imageVolumeMounts({ Volumes: { "/data": {}, "cache": {}, "/logs": {} } }, [{ containerPath: "/logs/" }], "/root/c1", () => `v${++n}`);
  assert.deepEqual(
    got.map((m) => [m.containerPath, m.hostPath]),
    [
      ["/data", "/root/c1/volumes/v1"],
      ["/cache", "/root/c1/volumes/v2"],
    ],
  );
  assert.deepEqual(imageVolumeMounts({}, [], "/root/c1", () => "x"), []);
});
