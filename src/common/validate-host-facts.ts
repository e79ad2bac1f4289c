// The host facts request validation needs, read once per process: cgroup v1 or v2, and
// the CPUs and memory nodes a cpuset may name.
import { access, readFile } from "node:fs/promises";
import { parseCpuList, type ResourceValidationFacts } from "./validate-resources.js";

async function onlineSet(file: string, fallback: string | undefined): Promise<Set<number> | undefined> {
  const text = (await readFile(file, "utf8").catch(() => fallback))?.trim();
  if (!text) return undefined;
  const list = parseCpuList(text);
  return typeof list === "string" ? undefined : new Set(list);
}

async function detect(): Promise<ResourceValidationFacts> {
  return {
    cgroupV2: await access("/sys/fs/cgroup/cgroup.controllers").then(
      () => true,
      () => false,
    ),
    onlineCpus: await onlineSet("/sys/devices/system/cpu/online", undefined),
    // Kernels without NUMA have no node directory and one node, 0.
    onlineMems: await onlineSet("/sys/devices/system/node/online", "0"),
  };
}

let facts: Promise<ResourceValidationFacts> | undefined;

export function validationHostFacts(): Promise<ResourceValidationFacts> {
  facts ??= detect();
  return facts;
}
