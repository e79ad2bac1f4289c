// The resources a container reports in its status, read back from its OCI spec
// (containerd's copyResourcesToStatus), so Status shows what runc was really given.
import { create } from "@bufbuild/protobuf";
import { ContainerResourcesSchema, HugepageLimitSchema, LinuxContainerResourcesSchema, type ContainerResources } from "../gen/runtime/v1/api_pb.js";
import type { OciSpec } from "../oci/spec-types.js";

export function resourcesFromSpec(spec: OciSpec): ContainerResources {
  const out = create(ContainerResourcesSchema, {});
  if (!spec.linux) return out;
  const linux = create(LinuxContainerResourcesSchema, {});
  out.linux = linux;
  if (spec.process?.oomScoreAdj !== undefined) linux.oomScoreAdj = BigInt(spec.process.oomScoreAdj);
  const r = spec.linux.resources;
  if (!r) return out;
  if (r.cpu) {
    if (r.cpu.period !== undefined) linux.cpuPeriod = BigInt(r.cpu.period);
    if (r.cpu.quota !== undefined) linux.cpuQuota = BigInt(r.cpu.quota);
    if (r.cpu.shares !== undefined) linux.cpuShares = BigInt(r.cpu.shares);
    linux.cpusetCpus = r.cpu.cpus ?? "";
    linux.cpusetMems = r.cpu.mems ?? "";
  }
  if (r.memory) {
    if (r.memory.limit !== undefined) linux.memoryLimitInBytes = BigInt(r.memory.limit);
    if (r.memory.swap !== undefined) linux.memorySwapLimitInBytes = BigInt(r.memory.swap);
  }
  if (r.hugepageLimits) linux.hugepageLimits = r.hugepageLimits.map((h) => create(HugepageLimitSchema, { pageSize: h.pageSize, limit: BigInt(h.limit) }));
  if (r.unified) linux.unified = { ...r.unified };
  return out;
}
