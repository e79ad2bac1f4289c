import { test } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, CriError } from "../../src/errors.js";
import {
  Int64ValueSchema,
  LinuxContainerResourcesSchema,
  LinuxPodSandboxConfigSchema,
  LinuxSandboxSecurityContextSchema,
  NamespaceMode,
  NamespaceOptionSchema,
  PodSandboxConfigSchema,
  PodSandboxMetadataSchema,
  SecurityProfileSchema,
  SecurityProfile_ProfileType,
  UserNamespaceSchema,
  IDMappingSchema,
  type PodSandboxConfig,
} from "../../src/gen/runtime/v1/api_pb.js";
import { buildSandboxSpec, type SandboxSpecInput } from "../../src/oci/sandbox-spec.js";
import { CriAnnotation } from "../../src/oci/annotations.js";
import { DEFAULT_UNIX_CAPS, DEFAULT_MASKED_PATHS } from "../../src/oci/default-spec.js";

function podConfig(
  sc: MessageInitShape<typeof LinuxSandboxSecurityContextSchema> = {},
  more: MessageInitShape<typeof PodSandboxConfigSchema> = {},
): PodSandboxConfig {
  return create(PodSandboxConfigSchema, {
    metadata: create(PodSandboxMetadataSchema, { name: "web", uid: "uid-1", namespace: "default", attempt: 0 }),
    hostname: "web-pod",
    logDirectory: "/var/log/pods/default_web_uid-1",
    labels: { app: "web" },
    annotations: { "io.katacontainers.config.x": "1", other: "2" },
    linux: create(LinuxPodSandboxConfigSchema, {
      cgroupParent: "/kubepods/besteffort/poduid-1",
      securityContext: create(LinuxSandboxSecurityContextSchema, sc),
    }),
    ...more,
  });
}

function input(config: PodSandboxConfig, more: Partial<SandboxSpecInput> = {}): SandboxSpecInput {
  return {
    id: "sb1",
    config,
    imageConfig: { Entrypoint: ["/pause"], Env: ["PATH=/bin"], User: "65535:65535" },
    imageName: "registry.k8s.io/pause:3.10",
    netnsPath: "/var/run/netns/cni-1",
    paths: { resolvConf: "/var/lib/crib/sandboxes/sb1/resolv.conf", shm: "/run/crib/sandboxes/sb1/shm" },
    ...more,
  };
}

const nsTypes = (spec: ReturnType<typeof buildSandboxSpec>) => spec.linux!.namespaces!.map((n) => (n.path ? `${n.type}=${n.path}` : n.type));

test("pause container spec for a pod with its own namespaces", () => {
  const spec = buildSandboxSpec(input(podConfig()));
  assert.deepEqual(spec.process!.args, ["/pause"]);
  assert.deepEqual(spec.process!.env, ["PATH=/bin"]);
  assert.equal(spec.process!.cwd, "/");
  assert.deepEqual(spec.process!.user, { uid: 65535, gid: 65535, additionalGids: [65535] });
  assert.equal(spec.process!.noNewPrivileges, true);
  assert.equal(spec.process!.rlimits, undefined, "no default rlimits");
  assert.deepEqual(spec.process!.capabilities!.bounding, DEFAULT_UNIX_CAPS);
  assert.equal(spec.process!.oomScoreAdj, -998);
  assert.deepEqual(spec.root, { path: "rootfs", readonly: true });
  assert.equal(spec.hostname, "web-pod");
  assert.deepEqual(nsTypes(spec), ["pid", "ipc", "uts", "mount", "network=/var/run/netns/cni-1"]);
  assert.equal(spec.linux!.cgroupsPath, "/kubepods/besteffort/poduid-1/sb1");
  assert.deepEqual(spec.linux!.resources!.cpu, { shares: 2 });
  assert.deepEqual(spec.linux!.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.deepEqual(spec.linux!.sysctl, { "net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647" });
  assert.equal(spec.linux!.seccomp, undefined);
  assert.deepEqual(
    spec.mounts!.map((m) => `${m.destination}<-${m.source}`),
    [
      "/proc<-proc",
      "/dev<-tmpfs",
      "/dev/pts<-devpts",
      "/dev/mqueue<-mqueue",
      "/sys<-sysfs",
      "/dev/shm<-/run/crib/sandboxes/sb1/shm",
      "/etc/resolv.conf<-/var/lib/crib/sandboxes/sb1/resolv.conf",
    ],
  );
  assert.deepEqual(spec.mounts!.find((m) => m.destination === "/dev/shm")!.options, ["rbind", "ro", "nosuid", "nodev", "noexec"]);
  assert.deepEqual(spec.annotations, {
    [CriAnnotation.SandboxID]: "sb1",
    [CriAnnotation.SandboxNamespace]: "default",
    [CriAnnotation.SandboxUID]: "uid-1",
    [CriAnnotation.SandboxName]: "web",
    [CriAnnotation.SandboxLogDir]: "/var/log/pods/default_web_uid-1",
    [CriAnnotation.SandboxImageName]: "registry.k8s.io/pause:3.10",
    [CriAnnotation.ContainerType]: "sandbox",
  });
  assert.equal(spec.annotations!["io.kubernetes.cri.container-type"], "sandbox");
});

test("host network, pid and ipc drop the namespaces (network also drops uts)", () => {
  const cases: { name: string; ns: { network?: NamespaceMode; pid?: NamespaceMode; ipc?: NamespaceMode }; want: string[] }[] = [
    { name: "host network", ns: { network: NamespaceMode.NODE }, want: ["pid", "ipc", "mount"] },
    { name: "host pid", ns: { pid: NamespaceMode.NODE }, want: ["ipc", "uts", "mount", "network=/var/run/netns/cni-1"] },
    { name: "host ipc", ns: { ipc: NamespaceMode.NODE }, want: ["pid", "uts", "mount", "network=/var/run/netns/cni-1"] },
    {
      name: "all host",
      ns: { network: NamespaceMode.NODE, pid: NamespaceMode.NODE, ipc: NamespaceMode.NODE },
      want: ["mount"],
    },
  ];
  for (const c of cases) {
    const spec = buildSandboxSpec(input(podConfig({ namespaceOptions: create(NamespaceOptionSchema, c.ns) })));
    assert.deepEqual(nsTypes(spec), c.want, c.name);
  }
  const hostNet = buildSandboxSpec(input(podConfig({ namespaceOptions: create(NamespaceOptionSchema, { network: NamespaceMode.NODE }) })));
  assert.equal(hostNet.linux!.sysctl, undefined, "no unprivileged port/icmp sysctls in the host's network namespace");
  const hostIpc = buildSandboxSpec(input(podConfig({ namespaceOptions: create(NamespaceOptionSchema, { ipc: NamespaceMode.NODE }) })));
  assert.equal(hostIpc.mounts!.find((m) => m.destination === "/dev/shm")!.source, "/dev/shm");
});

test("pod security context: user, groups, privileged /sys, seccomp", () => {
  const spec = buildSandboxSpec(
    input(
      podConfig({
        runAsUser: create(Int64ValueSchema, { value: 1000n }),
        runAsGroup: create(Int64ValueSchema, { value: 3000n }),
        supplementalGroups: [4000n],
        privileged: true,
        seccomp: create(SecurityProfileSchema, { profileType: SecurityProfile_ProfileType.RuntimeDefault }),
      }),
    ),
  );
  assert.deepEqual(spec.process!.user, { uid: 1000, gid: 3000, additionalGids: [3000] }, "WithUser restarts the groups, as in containerd");
  assert.deepEqual(spec.mounts!.find((m) => m.destination === "/sys")!.options, ["nosuid", "noexec", "nodev", "rw"]);
  assert.equal(spec.linux!.seccomp, undefined, "privileged pods run unconfined");

  const groupsOnly = buildSandboxSpec(input(podConfig({ supplementalGroups: [5n, 4n] }), { imageConfig: { Cmd: ["/pause"] } }));
  assert.deepEqual(groupsOnly.process!.user, { uid: 0, gid: 0, additionalGids: [4, 5] });

  const confined = buildSandboxSpec(
    input(podConfig({ seccomp: create(SecurityProfileSchema, { profileType: SecurityProfile_ProfileType.RuntimeDefault }) })),
  );
  assert.equal(confined.linux!.seccomp!.defaultAction, "SCMP_ACT_ERRNO");
  assert.ok(confined.linux!.seccomp!.syscalls!.some((s) => s.names.includes("chroot")));
  assert.throws(
    () => buildSandboxSpec(input(podConfig({ runAsGroup: create(Int64ValueSchema, { value: 5n }) }), { imageConfig: { Cmd: ["/p"] } })),
    (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT,
  );
});

test("sysctls, oom restriction, sizing and passthrough annotations, systemd cgroups", () => {
  const config = podConfig(
    {},
    {
      linux: create(LinuxPodSandboxConfigSchema, {
        cgroupParent: "kubepods-besteffort-poduid_1.slice",
        sysctls: { "net.ipv4.ip_unprivileged_port_start": "1024", "kernel.shm_rmid_forced": "1" },
        resources: create(LinuxContainerResourcesSchema, { cpuPeriod: 100000n, cpuQuota: 20000n, cpuShares: 102n, memoryLimitInBytes: 1024n }),
      }),
    },
  );
  const spec = buildSandboxSpec(
    input(config, { options: { restrictOOMScoreAdj: true, currentOOMScoreAdj: -500, podAnnotations: ["io.katacontainers.*"] } }),
  );
  assert.equal(spec.linux!.cgroupsPath, "kubepods-besteffort-poduid_1.slice:cri-containerd:sb1");
  assert.equal(spec.process!.oomScoreAdj, -500);
  assert.deepEqual(spec.linux!.sysctl, {
    "net.ipv4.ip_unprivileged_port_start": "1024",
    "kernel.shm_rmid_forced": "1",
    "net.ipv4.ping_group_range": "0 2147483647",
  });
  assert.equal(spec.annotations![CriAnnotation.SandboxCPUPeriod], "100000");
  assert.equal(spec.annotations![CriAnnotation.SandboxCPUQuota], "20000");
  assert.equal(spec.annotations![CriAnnotation.SandboxCPUShares], "102");
  assert.equal(spec.annotations![CriAnnotation.SandboxMem], "1024");
  assert.equal(spec.annotations!["io.katacontainers.config.x"], "1");
  assert.equal(spec.annotations!["other"], undefined);
});

test("pod user namespaces", () => {
  const map = create(IDMappingSchema, { hostId: 65536, containerId: 0, length: 65536 });
  const userns = create(UserNamespaceSchema, { mode: NamespaceMode.POD, uids: [map], gids: [map] });
  const spec = buildSandboxSpec(
    input(podConfig({ namespaceOptions: create(NamespaceOptionSchema, { usernsOptions: userns }) }), {
      userNamespacePath: "/run/crib/sandboxes/sb1/pinned-namespaces/user",
    }),
  );
  assert.ok(nsTypes(spec).includes("user=/run/crib/sandboxes/sb1/pinned-namespaces/user"));
  assert.deepEqual(spec.linux!.uidMappings, [{ containerID: 0, hostID: 65536, size: 65536 }]);
  assert.equal(spec.linux!.sysctl!["net.ipv4.ping_group_range"], undefined);
  const bad = create(UserNamespaceSchema, { mode: NamespaceMode.NODE, uids: [map], gids: [map] });
  assert.throws(
    () => buildSandboxSpec(input(podConfig({ namespaceOptions: create(NamespaceOptionSchema, { usernsOptions: bad }) }))),
    (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT,
  );
});

test("a pause image without entrypoint or cmd is refused", () => {
  assert.throws(
    () => buildSandboxSpec(input(podConfig(), { imageConfig: {} })),
    (e: unknown) => e instanceof CriError && e.code === Code.INVALID_ARGUMENT,
  );
});
