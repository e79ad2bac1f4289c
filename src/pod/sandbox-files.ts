// The files a pod's containers share: hostname, hosts and resolv.conf under the sandbox's
// root dir, and a tmpfs /dev/shm under its state dir (unless the pod uses the host's IPC),
// as containerd's CRI sets them up.
import { copyFile, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { hostname as osHostname } from "node:os";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import type { DNSConfig, PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { NamespaceMode } from "../gen/runtime/v1/api_pb.js";
import { invalidArgument } from "../errors.js";
import { describeExit } from "../io/run-command.js";
import { runHelped } from "../io/command-helper.js";

export interface SandboxPaths {
  rootDir: string;
  stateDir: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
  shm: string;
}

export function sandboxPaths(rootDir: string, stateDir: string, id: string, hostIpc: boolean): SandboxPaths {
  const root = join(rootDir, "sandboxes", id);
  const state = join(stateDir, "sandboxes", id);
  return {
    rootDir: root,
    stateDir: state,
    hostname: join(root, "hostname"),
    hosts: join(root, "hosts"),
    resolvConf: join(root, "resolv.conf"),
    shm: hostIpc ? "/dev/shm" : join(state, "shm"),
  };
}

const WS = /\s/;

/** resolv.conf text from the pod's DNSConfig (containerd's parseDNSOptions), validated. */
export function resolvConfFromDns(dns: DNSConfig): string {
  for (const s of dns.servers) if (!isIP(s)) throw invalidArgument(`invalid DNS server ${JSON.stringify(s)}: not an IP address`);
  for (const s of dns.searches) if (s === "" || WS.test(s)) throw invalidArgument(`invalid DNS search domain ${JSON.stringify(s)}`);
  for (const o of dns.options) if (o === "" || WS.test(o)) throw invalidArgument(`invalid DNS option ${JSON.stringify(o)}`);
  let out = "";
  if (dns.searches.length) out += `search ${dns.searches.join(" ")}\n`;
  if (dns.servers.length) out += `nameserver ${dns.servers.join("\nnameserver ")}\n`;
  if (dns.options.length) out += `options ${dns.options.join(" ")}\n`;
  return out;
}

export function isHostNetwork(c: PodSandboxConfig): boolean {
  return c.linux?.securityContext?.namespaceOptions?.network === NamespaceMode.NODE;
}
export function isHostIpc(c: PodSandboxConfig): boolean {
  return c.linux?.securityContext?.namespaceOptions?.ipc === NamespaceMode.NODE;
}
export function isHostPid(c: PodSandboxConfig): boolean {
  return c.linux?.securityContext?.namespaceOptions?.pid === NamespaceMode.NODE;
}

/** Validates what setupSandboxFiles would reject, before anything is created. */
export function validateSandboxFilesConfig(c: PodSandboxConfig): void {
  if (c.dnsConfig) resolvConfFromDns(c.dnsConfig);
}

const SHM_OPTIONS = "nodev,noexec,nosuid,mode=1777,size=65536k";

export async function setupSandboxFiles(p: SandboxPaths, c: PodSandboxConfig): Promise<void> {
  // The files are independent: written at once (each a threadpool round trip, and the
  // event loop is busy forking CNI plugins meanwhile), all settled before an error is reported.
  const host = isHostNetwork(c) ? osHostname() : c.hostname || osHostname();
  const root = mkdir(p.rootDir, { recursive: true, mode: 0o755 });
  const steps = [
    root.then(() => writeFile(p.hostname, host + "\n", { mode: 0o644 })),
    root.then(() => copyFile("/etc/hosts", p.hosts)),
    root.then(() => (c.dnsConfig ? writeFile(p.resolvConf, resolvConfFromDns(c.dnsConfig), { mode: 0o644 }) : copyFile("/etc/resolv.conf", p.resolvConf))),
    (async () => {
      await mkdir(p.stateDir, { recursive: true, mode: 0o755 });
      if (isHostIpc(c)) return;
      await mkdir(p.shm, { recursive: true, mode: 0o700 });
      const r = await runHelped("mount", ["-t", "tmpfs", "-o", SHM_OPTIONS, "shm", p.shm]);
      if (r.code !== 0) throw new Error(`failed to mount sandbox shm ${p.shm}: ${describeExit(r)}`);
    })(),
  ];
  for (const r of await Promise.allSettled(steps)) if (r.status === "rejected") throw r.reason;
}

/**
 * Whether something is mounted at `path` (its device differs from its parent's). Asked
 * before running `umount`: even through the helper shell it is a process, and StopPodSandbox
 * already unmounted what RemovePodSandbox would unmount again.
 */
export async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [self, parent] = await Promise.all([stat(path), stat(dirname(path))]);
    return self.dev !== parent.dev;
  } catch {
    return false;
  }
}

/** Lazily unmounts the pod's own shm when it is mounted (a container still holding it must not make this fail). */
export async function unmountSandboxShm(p: SandboxPaths): Promise<void> {
  if (p.shm !== "/dev/shm" && (await isMountPoint(p.shm))) await runHelped("umount", ["-l", p.shm]).catch(() => undefined);
}

/** Unmounts shm and removes both dirs; safe to call again. */
export async function cleanupSandboxFiles(p: SandboxPaths): Promise<void> {
  await unmountSandboxShm(p);
  await rm(p.stateDir, { recursive: true, force: true });
  await rm(p.rootDir, { recursive: true, force: true });
}
