// CRI stats messages from samples (pure): what ContainerStats and PodSandboxStats carry,
// in containerd's CRI shapes. A field the sample lacks stays unset, so the kubelet can tell
// "not measured" from 0.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  ContainerStatsSchema,
  CpuUsageSchema,
  FilesystemUsageSchema,
  MemoryUsageSchema,
  NetworkUsageSchema,
  SwapUsageSchema,
} from "../gen/runtime/v1/api_pb.js";
import type { CgroupSample } from "./cgroup-sample.js";
import { DEFAULT_INTERFACE, type InterfaceCounters } from "./net-dev.js";
import type { LayerUsage } from "./writable-layer.js";

type CpuInit = MessageInitShape<typeof CpuUsageSchema>;
type MemoryInit = MessageInitShape<typeof MemoryUsageSchema>;
type SwapInit = MessageInitShape<typeof SwapUsageSchema>;
export type ContainerStatsInit = MessageInitShape<typeof ContainerStatsSchema>;

const u64 = (value: bigint) => ({ value });

export function criCpu(sample: CgroupSample, atNs: bigint, nanoCores: bigint | undefined): CpuInit | undefined {
  if (sample.cpuUsageNs === undefined) return undefined;
  const cpu: CpuInit = { timestamp: atNs, usageCoreNanoSeconds: u64(sample.cpuUsageNs) };
  if (nanoCores !== undefined) cpu.usageNanoCores = u64(nanoCores);
  return cpu;
}

export function criMemory(sample: CgroupSample, atNs: bigint): MemoryInit | undefined {
  const m = sample.memory;
  if (!m) return undefined;
  return {
    timestamp: atNs,
    workingSetBytes: u64(m.workingSetBytes),
    availableBytes: u64(m.availableBytes),
    usageBytes: u64(m.usageBytes),
    rssBytes: u64(m.rssBytes),
    pageFaults: u64(m.pageFaults),
    majorPageFaults: u64(m.majorPageFaults),
  };
}

export function criSwap(sample: CgroupSample, atNs: bigint): SwapInit | undefined {
  const s = sample.swap;
  if (!s) return undefined;
  return { timestamp: atNs, swapUsageBytes: u64(s.usageBytes), swapAvailableBytes: u64(s.availableBytes) };
}

export function criWritableLayer(usage: LayerUsage | undefined, mountpoint: string, atNs: bigint): MessageInitShape<typeof FilesystemUsageSchema> {
  // containerd reports zeros (and the time of the request) until its syncer measured the layer.
  return {
    timestamp: usage?.timestamp ?? atNs,
    fsId: { mountpoint },
    usedBytes: u64(usage?.usedBytes ?? 0n),
    inodesUsed: u64(usage?.inodesUsed ?? 0n),
  };
}

export interface ContainerStatsInput {
  attributes: NonNullable<ContainerStatsInit["attributes"]>;
  /** The task's cgroup sample and when it was taken; absent for a container without a task. */
  sample?: { sample: CgroupSample; atNs: bigint; nanoCores: bigint | undefined };
  writableLayer: MessageInitShape<typeof FilesystemUsageSchema>;
}

export function criContainerStats(i: ContainerStatsInput): ContainerStatsInit {
  const out: ContainerStatsInit = { attributes: i.attributes, writableLayer: i.writableLayer };
  if (i.sample) {
    const { sample, atNs, nanoCores } = i.sample;
    const cpu = criCpu(sample, atNs, nanoCores);
    const memory = criMemory(sample, atNs);
    const swap = criSwap(sample, atNs);
    if (cpu) out.cpu = cpu;
    if (memory) out.memory = memory;
    if (swap) out.swap = swap;
  }
  return out;
}

/** The pod's interfaces: eth0 (what CNI plugins create) is the default one, the others are listed apart. */
export function criNetwork(ifaces: InterfaceCounters[], atNs: bigint): MessageInitShape<typeof NetworkUsageSchema> {
  const usage = (i: InterfaceCounters) => ({ name: i.name, rxBytes: u64(i.rxBytes), rxErrors: u64(i.rxErrors), txBytes: u64(i.txBytes), txErrors: u64(i.txErrors) });
  const def = ifaces.find((i) => i.name === DEFAULT_INTERFACE);
  const out: MessageInitShape<typeof NetworkUsageSchema> = { timestamp: atNs, interfaces: ifaces.filter((i) => i !== def).map(usage) };
  if (def) out.defaultInterface = usage(def);
  return out;
}
