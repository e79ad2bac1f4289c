import { test } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, CriError } from "../../src/errors.js";
import {
  CapabilitySchema,
  ContainerConfigSchema,
  ContainerMetadataSchema,
  DeviceSchema,
  ImageSpecSchema,
  Int64ValueSchema,
  KeyValueSchema,
  LinuxContainerConfigSchema,
  LinuxContainerResourcesSchema,
  LinuxContainerSecurityContextSchema,
  LinuxPodSandboxConfigSchema,
  LinuxSandboxSecurityContextSchema,
  MountSchema,
  MountPropagation,
  NamespaceMode,
  NamespaceOptionSchema,
  PodSandboxConfigSchema,
  PodSandboxMetadataSchema,
  SecurityProfileSchema,
  SecurityProfile_ProfileType,
  SupplementalGroupsPolicy,
} from "../../src/gen/runtime/v1/api_pb.js";
import { buildContainerSpec, type ContainerSpecInput } from "../../src/oci/container-spec.js";
import { CriAnnotation } from "../../src/oci/annotations.js";
import { DEFAULT_UNIX_CAPS } from "../../src/oci/default-spec.js";

const passwd = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
const group = "root:x:0:\napp:x:1000:\nwheel:x:10:app\naudio:x:29:app\n";
const HOST_CAPS = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"];

type ScInit = MessageInitShape<typeof LinuxContainerSecurityContextSchema>;

function containerConfig(sc: ScInit = {}, more: MessageInitShape<typeof ContainerConfigSchema> = {}) {
  return create(ContainerConfigSchema, {
    metadata: create(ContainerMetadataSchema, { name: "app", attempt: 0 }),
    image: create(ImageSpecSchema, { image: "sha256:abc", userSpecifiedImage: "busybox:1.36" }),
    envs: [create(KeyValueSchema, { key: "MODE", value: "prod" })],
    linux: create(LinuxContainerConfigSchema, { securityContext: create(LinuxContainerSecurityContextSchema, sc) }),
    ...more,
  });
}

function podConfig(privileged = false, hostname = "web-pod") {
  return create(PodSandboxConfigSchema, {
    metadata: create(PodSandboxMetadataSchema, { name: "web", uid: "uid-1", namespace: "default" }),
    hostname,
    annotations: { "example.com/pod": "p" },
    linux: create(LinuxPodSandboxConfigSchema, {
      cgroupParent: "/kubepods/burstable/poduid-1",
      securityContext: create(LinuxSandboxSecurityContextSchema, { privileged }),
    }),
  });
}

function input(config: ReturnType<typeof containerConfig>, more: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    id: "c1",
    config,
    sandboxConfig: podConfig(),
    sandboxId: "sb1",
    sandboxPid: 4242,
    imageConfig: { Entrypoint: ["/bin/app"], Cmd: ["--serve"], Env: ["PATH=/usr/bin:/bin", "MODE=dev"], WorkingDir: "/srv" },
    imageName: "docker.io/library/busybox:1.36",
    nodeHostname: "node-1",
    sandboxFiles: {
      hostname: "/var/lib/crib/sandboxes/sb1/hostname",
      hosts: "/var/lib/crib/sandboxes/sb1/hosts",
      resolvConf: "/var/lib/crib/sandboxes/sb1/resolv.conf",
      shm: "/run/crib/sandboxes/sb1/shm",
    },
    userFiles: { passwd, group },
    options: { hostCapabilities: HOST_CAPS },
    ...more,
  };
}

const isCode = (code: Code) => (e: unknown) => e instanceof CriError && e.code === code;
const nsList = (spec: ReturnType<typeof buildContainerSpec>) => spec.linux!.namespaces!.map((n) => (n.path ? `${n.type}=${n.path}` : n.type));

test("a plain container: process, env, namespaces, cgroups, annotations", () => {
  const spec = buildContainerSpec(input(containerConfig()));
  const p = spec.process!;
  assert.deepEqual(p.args, ["/bin/app", "--serve"]);
  assert.equal(p.cwd, "/srv");
  assert.deepEqual(p.env, ["PATH=/usr/bin:/bin", "HOSTNAME=web-pod", "MODE=prod"], "image env first, CRI env wins by key");
  assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [0] });
  assert.equal(p.noNewPrivileges, false);
  assert.equal(p.terminal, undefined);
  assert.deepEqual(p.capabilities!.bounding, DEFAULT_UNIX_CAPS);
  assert.equal(p.capabilities!.ambient, undefined);
  assert.equal(p.oomScoreAdj, undefined, "no resources, no oom_score_adj");
  assert.deepEqual(spec.root, { path: "rootfs" });
  assert.equal(spec.hostname, undefined, "the uts namespace is the pod's");
  assert.deepEqual(nsList(spec), ["pid=/proc/4242/ns/pid", "ipc=/proc/4242/ns/ipc", "uts=/proc/4242/ns/uts", "mount", "network=/proc/4242/ns/net"]);
  assert.equal(spec.linux!.cgroupsPath, "/kubepods/burstable/poduid-1/c1");
  assert.equal(spec.linux!.maskedPaths, undefined, "containerd leaves masked paths to the kubelet");
  assert.equal(spec.linux!.seccomp, undefined);
  assert.deepEqual(spec.linux!.resources, { devices: [{ allow: false, access: "rwm" }] });
  assert.deepEqual(spec.annotations, {
    [CriAnnotation.SandboxID]: "sb1",
    [CriAnnotation.SandboxNamespace]: "default",
    [CriAnnotation.SandboxUID]: "uid-1",
    [CriAnnotation.SandboxName]: "web",
    [CriAnnotation.ContainerName]: "app",
    [CriAnnotation.ImageName]: "busybox:1.36",
    [CriAnnotation.ContainerType]: "container",
  });
  assert.deepEqual(
    spec.mounts!.map((m) => `${m.destination}<-${m.source}`),
    [
      "/proc<-proc",
      "/dev<-tmpfs",
      "/dev/pts<-devpts",
      "/dev/mqueue<-mqueue",
      "/sys<-sysfs",
      "/sys/fs/cgroup<-cgroup",
      "/etc/hostname<-/var/lib/crib/sandboxes/sb1/hostname",
      "/etc/hosts<-/var/lib/crib/sandboxes/sb1/hosts",
      "/etc/resolv.conf<-/var/lib/crib/sandboxes/sb1/resolv.conf",
      "/dev/shm<-/run/crib/sandboxes/sb1/shm",
    ],
  );
  assert.deepEqual(spec.mounts!.find((m) => m.destination === "/etc/hosts")!.options, ["rbind", "rprivate", "rw"]);
});

test("working dir, tty and HOSTNAME fallbacks", () => {
  const spec = buildContainerSpec(
    input(containerConfig({}, { workingDir: "/work", tty: true, stdin: true }), { sandboxConfig: podConfig(false, "") }),
  );
  assert.equal(spec.process!.cwd, "/work");
  assert.equal(spec.process!.terminal, true);
  assert.deepEqual(spec.process!.env, ["PATH=/usr/bin:/bin", "TERM=xterm", "HOSTNAME=node-1", "MODE=prod"]);
  const noDir = buildContainerSpec(input(containerConfig(), { imageConfig: { Cmd: ["sh"] } }));
  assert.equal(noDir.process!.cwd, "/");
  assert.deepEqual(noDir.process!.env, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web-pod", "MODE=prod"]);
});

test("users and groups", () => {
  const cases: { name: string; sc: ScInit; image?: string; want: object }[] = [
    { name: "image user by name", sc: {}, image: "app", want: { uid: 1000, gid: 1000, additionalGids: [10, 29, 1000] } },
    { name: "run_as_user", sc: { runAsUser: create(Int64ValueSchema, { value: 1000n }) }, want: { uid: 1000, gid: 1000, additionalGids: [10, 29, 1000] } },
    {
      name: "run_as_user + run_as_group + supplemental",
      sc: {
        runAsUser: create(Int64ValueSchema, { value: 1000n }),
        runAsGroup: create(Int64ValueSchema, { value: 3000n }),
        supplementalGroups: [4000n],
      },
      want: { uid: 1000, gid: 3000, additionalGids: [10, 29, 3000, 4000] },
    },
    {
      name: "strict policy skips /etc/group",
      sc: {
        runAsUser: create(Int64ValueSchema, { value: 1000n }),
        supplementalGroups: [4000n],
        supplementalGroupsPolicy: SupplementalGroupsPolicy.Strict,
      },
      want: { uid: 1000, gid: 1000, additionalGids: [1000, 4000] },
    },
    { name: "run_as_username", sc: { runAsUsername: "app" }, image: "root", want: { uid: 1000, gid: 1000, additionalGids: [10, 29, 1000] } },
    { name: "numeric uid unknown to passwd", sc: {}, image: "5000:5000", want: { uid: 5000, gid: 5000, additionalGids: [5000] } },
    { name: "root by default", sc: { supplementalGroups: [7n] }, want: { uid: 0, gid: 0, additionalGids: [0, 7] } },
  ];
  for (const c of cases) {
    const spec = buildContainerSpec(input(containerConfig(c.sc), { imageConfig: { Cmd: ["sh"], User: c.image } }));
    assert.deepEqual(spec.process!.user, c.want, c.name);
  }
  assert.throws(() => buildContainerSpec(input(containerConfig({ runAsUsername: "ghost" }))), isCode(Code.INVALID_ARGUMENT));
  assert.throws(() => buildContainerSpec(input(containerConfig(), { imageConfig: { Cmd: ["sh"], User: "ghost" } })), isCode(Code.INVALID_ARGUMENT));
});

test("security context: capabilities, no_new_privs, readonly rootfs, masked paths, seccomp", () => {
  const spec = buildContainerSpec(
    input(
      containerConfig({
        capabilities: create(CapabilitySchema, { addCapabilities: ["SYS_ADMIN"], dropCapabilities: ["NET_RAW"] }),
        noNewPrivs: true,
        readonlyRootfs: true,
        maskedPaths: ["/proc/kcore"],
        readonlyPaths: ["/proc/sys"],
        seccomp: create(SecurityProfileSchema, { profileType: SecurityProfile_ProfileType.RuntimeDefault }),
      }),
    ),
  );
  const caps = spec.process!.capabilities!;
  assert.ok(caps.bounding!.includes("CAP_SYS_ADMIN") && !caps.bounding!.includes("CAP_NET_RAW"));
  assert.equal(spec.process!.noNewPrivileges, true);
  assert.deepEqual(spec.root, { path: "rootfs", readonly: true });
  assert.deepEqual(spec.linux!.maskedPaths, ["/proc/kcore"]);
  assert.deepEqual(spec.linux!.readonlyPaths, ["/proc/sys"]);
  // The profile sees the final capabilities: CAP_SYS_ADMIN unlocks mount.
  assert.ok(spec.linux!.seccomp!.syscalls!.some((s) => s.names.includes("mount") && s.action === "SCMP_ACT_ALLOW"));
  // A readonly rootfs makes the pod files readonly, not /dev/shm.
  assert.ok(spec.mounts!.find((m) => m.destination === "/etc/hosts")!.options!.includes("ro"));
  assert.ok(spec.mounts!.find((m) => m.destination === "/dev/shm")!.options!.includes("rw"));
});

test("privileged containers get every host capability and device, no masks, no seccomp", () => {
  const config = containerConfig({
    privileged: true,
    capabilities: create(CapabilitySchema, { dropCapabilities: ["ALL"] }),
    maskedPaths: ["/proc/kcore"],
    seccomp: create(SecurityProfileSchema, { profileType: SecurityProfile_ProfileType.RuntimeDefault }),
  });
  const hostDevices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
  const spec = buildContainerSpec(input(config, { sandboxConfig: podConfig(true), hostDevices }));
  assert.deepEqual(spec.process!.capabilities, { bounding: HOST_CAPS, effective: HOST_CAPS, permitted: HOST_CAPS });
  assert.equal(spec.linux!.maskedPaths, undefined);
  assert.equal(spec.linux!.seccomp, undefined);
  assert.deepEqual(spec.linux!.devices, hostDevices);
  assert.deepEqual(spec.linux!.resources!.devices, [{ allow: true, access: "rwm" }]);
  assert.deepEqual(spec.mounts!.find((m) => m.destination === "/sys")!.options, ["nosuid", "noexec", "nodev", "rw"]);
  assert.ok(spec.mounts!.find((m) => m.destination === "/sys/fs/cgroup")!.options!.includes("rw"));

  assert.throws(() => buildContainerSpec(input(config)), isCode(Code.INVALID_ARGUMENT), "needs a privileged pod");
  const noHostDevices = buildContainerSpec(
    input(config, { sandboxConfig: podConfig(true), hostDevices, options: { hostCapabilities: HOST_CAPS, privilegedWithoutHostDevices: true } }),
  );
  assert.equal(noHostDevices.linux!.devices, undefined);
  assert.deepEqual(noHostDevices.linux!.resources!.devices, [{ allow: false, access: "rwm" }]);
});

test("resources, oom_score_adj restriction, devices, CRI mounts", () => {
  const config = containerConfig(
    {},
    {
      mounts: [
        create(MountSchema, { containerPath: "/data", hostPath: "/srv/data", readonly: true }),
        create(MountSchema, { containerPath: "/etc/hosts", hostPath: "/custom/hosts", propagation: MountPropagation.PROPAGATION_HOST_TO_CONTAINER }),
      ],
      devices: [create(DeviceSchema, { hostPath: "/dev/fuse", containerPath: "/dev/fuse", permissions: "rwm" })],
    },
  );
  config.linux!.resources = create(LinuxContainerResourcesSchema, {
    cpuShares: 256n,
    cpuQuota: 50000n,
    cpuPeriod: 100000n,
    memoryLimitInBytes: 64n << 20n,
    oomScoreAdj: -900n,
  });
  const spec = buildContainerSpec(
    input(config, {
      deviceNodes: { "/dev/fuse": [{ relPath: "", type: "c", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }] },
      options: { hostCapabilities: HOST_CAPS, restrictOOMScoreAdj: true, currentOOMScoreAdj: -500 },
    }),
  );
  assert.deepEqual(spec.linux!.resources!.cpu, { shares: 256, quota: 50000, period: 100000 });
  assert.deepEqual(spec.linux!.resources!.memory, { limit: 67108864 });
  assert.equal(spec.process!.oomScoreAdj, -500);
  assert.deepEqual(spec.linux!.devices, [{ type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
  assert.deepEqual(spec.linux!.resources!.devices, [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
  ]);
  assert.equal(spec.linux!.rootfsPropagation, "rslave");
  const hosts = spec.mounts!.filter((m) => m.destination === "/etc/hosts");
  assert.deepEqual(hosts, [{ destination: "/etc/hosts", type: "bind", source: "/custom/hosts", options: ["rbind", "rslave", "rw"] }]);
  assert.deepEqual(spec.mounts!.find((m) => m.destination === "/data")!.options, ["rbind", "rprivate", "ro"]);
});

test("pid namespace modes and the cgroup namespace on cgroup v2", () => {
  const ns = (pid: NamespaceMode, targetId = "") => containerConfig({ namespaceOptions: create(NamespaceOptionSchema, { pid, targetId }) });
  assert.deepEqual(nsList(buildContainerSpec(input(ns(NamespaceMode.CONTAINER))))[0], "pid", "own pid namespace");
  assert.deepEqual(nsList(buildContainerSpec(input(ns(NamespaceMode.NODE))))[0], "pid=/proc/4242/ns/pid", "the pause's, which is the host's");
  assert.deepEqual(nsList(buildContainerSpec(input(ns(NamespaceMode.TARGET, "c0"), { targetPid: 777 })))[0], "pid=/proc/777/ns/pid");
  assert.throws(() => buildContainerSpec(input(ns(NamespaceMode.TARGET, "c0"))), isCode(Code.INVALID_ARGUMENT));
  const v2 = buildContainerSpec(input(containerConfig(), { options: { hostCapabilities: HOST_CAPS, cgroupV2: true } }));
  assert.ok(nsList(v2).includes("cgroup"));
  const hostIpc = buildContainerSpec(input(containerConfig({ namespaceOptions: create(NamespaceOptionSchema, { ipc: NamespaceMode.NODE }) })));
  assert.equal(hostIpc.mounts!.find((m) => m.destination === "/dev/shm")!.source, "/dev/shm");
});

test("passthrough annotations and apparmor", () => {
  const config = containerConfig({}, { annotations: { "example.com/c": "c", skip: "x" } });
  const spec = buildContainerSpec(
    input(config, {
      options: { hostCapabilities: HOST_CAPS, podAnnotations: ["example.com/*"], containerAnnotations: ["example.com/*"], apparmorEnabled: true },
    }),
  );
  assert.equal(spec.annotations!["example.com/pod"], "p");
  assert.equal(spec.annotations!["example.com/c"], "c");
  assert.equal(spec.annotations!["skip"], undefined);
  assert.equal(spec.process!.apparmorProfile, "cri-containerd.apparmor.d");
});
