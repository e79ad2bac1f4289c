// The host facts containerd's CRI reads once at start and feeds into every container
// spec (capabilities, seccomp and AppArmor support, cgroup controllers, kernel version),
// read the same way here and passed to the pure spec builder as SpecOptions.
import { access, readFile } from "node:fs/promises";
import { release } from "node:os";
import type { Config } from "../config.js";
import { capabilitiesFromMask } from "./capabilities.js";
import { goArchOf, type SpecOptions } from "./spec-options.js";

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** The CapEff mask and Seccomp support of /proc/self/status text. */
export function parseProcStatus(text: string): { capEff: string | undefined; seccomp: boolean } {
  const capEff = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(text)?.[1];
  return { capEff, seccomp: /^Seccomp:/m.test(text) };
}

/** Kernel release "5.10.0-28-amd64" at least major.minor. */
export function kernelAtLeast(kernelRelease: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/** A uid_map that maps the full range onto itself: not inside a user namespace. */
export function inUserNamespace(uidMap: string): boolean {
  const f = uidMap.trim().split(/\s+/);
  return !(f.length === 3 && f[0] === "0" && f[1] === "0" && f[2] === "4294967295");
}

async function detectHost(): Promise<Partial<SpecOptions>> {
  const status = parseProcStatus(await readFile("/proc/self/status", "utf8").catch(() => ""));
  const cgroupV2 = await exists("/sys/fs/cgroup/cgroup.controllers");
  const controllers = cgroupV2 ? await readFile("/sys/fs/cgroup/cgroup.controllers", "utf8").catch(() => "") : "";
  // containerd's apparmor.HostSupports; RuntimeDefault then also needs its profile loaded.
  const apparmorEnabled =
    (await exists("/sys/kernel/security/apparmor")) &&
    (await readFile("/sys/module/apparmor/parameters/enabled", "utf8").catch(() => "")).startsWith("Y");
  const facts: Partial<SpecOptions> = {
    seccompEnabled: status.seccomp,
    apparmorEnabled,
    cgroupV2,
    swapControllerAvailable: cgroupV2
      ? await exists("/sys/fs/cgroup/memory.swap.max").then(async (root) => root || (await exists("/sys/fs/cgroup/init.scope/memory.swap.max")))
      : await exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
    hugetlbControllerPresent: cgroupV2 ? /\bhugetlb\b/.test(controllers) : await exists("/sys/fs/cgroup/hugetlb"),
    runningInUserNS: inUserNamespace(await readFile("/proc/self/uid_map", "utf8").catch(() => "0 0 4294967295")),
    arch: goArchOf(process.arch),
    kernelAtLeast4_8: kernelAtLeast(release(), 4, 8),
  };
  if (status.capEff) facts.hostCapabilities = capabilitiesFromMask(status.capEff);
  return facts;
}

let host: Promise<Partial<SpecOptions>> | undefined;

/** The spec options of this host (read once per process) and of crib's config. */
export async function specHostFacts(config: Config, ownOOMScoreAdj: number): Promise<Partial<SpecOptions>> {
  host ??= detectHost();
  return {
    ...(await host),
    namespace: config.namespace,
    restrictOOMScoreAdj: config.restrictOOMScoreAdj,
    currentOOMScoreAdj: ownOOMScoreAdj,
  };
}
