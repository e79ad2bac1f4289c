// ListMetricDescriptors / ListPodSandboxMetrics: the cAdvisor metric names the kubelet
// serves on /metrics/cadvisor, filled from the same Tasks.Metrics payloads, the pod's
// /proc/<pid>/net/dev and the writable layer's usage. Every metric's label values follow
// its descriptor's label keys, in order; the base keys are cAdvisor's own (container, id,
// image, name, namespace, pod), so dashboards built on cAdvisor keep working.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { MetricType, type MetricDescriptorSchema, type MetricSchema } from "../gen/runtime/v1/api_pb.js";
import type { OciSpec } from "../oci/spec-types.js";
import { type CgroupMetrics, sampleOf } from "./cgroup-sample.js";
import type { InterfaceCounters } from "./net-dev.js";

export type MetricInit = MessageInitShape<typeof MetricSchema>;
type DescriptorInit = MessageInitShape<typeof MetricDescriptorSchema>;

export const BASE_LABEL_KEYS = ["container", "id", "image", "name", "namespace", "pod"] as const;
export type BaseLabels = Record<(typeof BASE_LABEL_KEYS)[number], string>;

interface Def {
  help: string;
  type: MetricType;
  extra?: readonly string[];
}
const { COUNTER, GAUGE } = MetricType;

/** Every metric crib reports, by name: its help text, kind and labels beyond the base ones. */
export const METRIC_DEFS = {
  container_cpu_usage_seconds_total: { help: "Cumulative cpu time consumed in seconds.", type: COUNTER },
  container_cpu_user_seconds_total: { help: "Cumulative user cpu time consumed in seconds.", type: COUNTER },
  container_cpu_system_seconds_total: { help: "Cumulative system cpu time consumed in seconds.", type: COUNTER },
  container_cpu_cfs_periods_total: { help: "Number of elapsed enforcement period intervals.", type: COUNTER },
  container_cpu_cfs_throttled_periods_total: { help: "Number of throttled period intervals.", type: COUNTER },
  container_cpu_cfs_throttled_seconds_total: { help: "Total time duration the container has been throttled.", type: COUNTER },
  container_memory_usage_bytes: { help: "Current memory usage in bytes, including all memory regardless of when it was accessed", type: GAUGE },
  container_memory_working_set_bytes: { help: "Current working set in bytes.", type: GAUGE },
  container_memory_max_usage_bytes: { help: "Maximum memory usage recorded in bytes", type: GAUGE },
  container_memory_rss: { help: "Size of RSS in bytes.", type: GAUGE },
  container_memory_cache: { help: "Number of bytes of page cache memory.", type: GAUGE },
  container_memory_mapped_file: { help: "Size of memory mapped files in bytes.", type: GAUGE },
  container_memory_swap: { help: "Container swap usage in bytes.", type: GAUGE },
  container_memory_failcnt: { help: "Number of memory usage hits limits", type: COUNTER },
  container_memory_total_active_file_bytes: { help: "Current total active file in bytes.", type: GAUGE },
  container_memory_total_inactive_file_bytes: { help: "Current total inactive file in bytes.", type: GAUGE },
  container_memory_failures_total: { help: "Cumulative count of memory allocation failures.", type: COUNTER, extra: ["failure_type", "scope"] },
  container_oom_events_total: { help: "Count of out of memory events observed for the container", type: COUNTER },
  container_processes: { help: "Number of processes running inside the container.", type: GAUGE },
  container_fs_usage_bytes: { help: "Number of bytes that are consumed by the container on this filesystem.", type: GAUGE, extra: ["device"] },
  container_fs_inodes_total: { help: "Number of Inodes", type: GAUGE, extra: ["device"] },
  container_start_time_seconds: { help: "Start time of the container since unix epoch in seconds.", type: GAUGE },
  container_last_seen: { help: "Last time a container was seen by the exporter", type: GAUGE },
  container_spec_cpu_period: { help: "CPU period of the container.", type: GAUGE },
  container_spec_cpu_quota: { help: "CPU quota of the container.", type: GAUGE },
  container_spec_cpu_shares: { help: "CPU share of the container.", type: GAUGE },
  container_spec_memory_limit_bytes: { help: "Memory limit for the container.", type: GAUGE },
  container_network_receive_bytes_total: { help: "Cumulative count of bytes received", type: COUNTER, extra: ["interface"] },
  container_network_receive_packets_total: { help: "Cumulative count of packets received", type: COUNTER, extra: ["interface"] },
  container_network_receive_packets_dropped_total: { help: "Cumulative count of packets dropped while receiving", type: COUNTER, extra: ["interface"] },
  container_network_receive_errors_total: { help: "Cumulative count of errors encountered while receiving", type: COUNTER, extra: ["interface"] },
  container_network_transmit_bytes_total: { help: "Cumulative count of bytes transmitted", type: COUNTER, extra: ["interface"] },
  container_network_transmit_packets_total: { help: "Cumulative count of packets transmitted", type: COUNTER, extra: ["interface"] },
  container_network_transmit_packets_dropped_total: { help: "Cumulative count of packets dropped while transmitting", type: COUNTER, extra: ["interface"] },
  container_network_transmit_errors_total: { help: "Cumulative count of errors encountered while transmitting", type: COUNTER, extra: ["interface"] },
} satisfies Record<string, Def>;

export type MetricName = keyof typeof METRIC_DEFS;

export function metricDescriptors(): DescriptorInit[] {
  return Object.entries(METRIC_DEFS).map(([name, d]: [string, Def]) => ({ name, help: d.help, labelKeys: [...BASE_LABEL_KEYS, ...(d.extra ?? [])] }));
}

/** Collects metrics with one set of base labels and one timestamp. */
export class MetricSet {
  readonly metrics: MetricInit[] = [];
  private readonly base: string[];

  constructor(
    labels: BaseLabels,
    private readonly atNs: bigint,
  ) {
    this.base = BASE_LABEL_KEYS.map((k) => labels[k]);
  }

  add(name: MetricName, value: bigint | number, extra: string[] = []): void {
    const def: Def = METRIC_DEFS[name];
    if ((def.extra?.length ?? 0) !== extra.length) throw new Error(`metric ${name} takes labels ${def.extra?.join(",") ?? "none"}`);
    const v = typeof value === "bigint" ? value : BigInt(Math.max(0, Math.floor(value)));
    this.metrics.push({ name, timestamp: this.atNs, metricType: def.type, labelValues: [...this.base, ...extra], value: { value: v < 0n ? 0n : v } });
  }
}

const NS_PER_S = 1_000_000_000n;

/** CPU, memory, OOM and process metrics of one cgroup. */
export function addCgroupMetrics(set: MetricSet, m: CgroupMetrics): void {
  const sample = sampleOf(m);
  if (m.version === 1) {
    const { cpu, memory: mem, memoryOomControl: oom, pids } = m.v1;
    if (cpu?.usage) {
      set.add("container_cpu_usage_seconds_total", cpu.usage.total / NS_PER_S);
      set.add("container_cpu_user_seconds_total", cpu.usage.user / NS_PER_S);
      set.add("container_cpu_system_seconds_total", cpu.usage.kernel / NS_PER_S);
    }
    if (cpu?.throttling) {
      set.add("container_cpu_cfs_periods_total", cpu.throttling.periods);
      set.add("container_cpu_cfs_throttled_periods_total", cpu.throttling.throttledPeriods);
      set.add("container_cpu_cfs_throttled_seconds_total", cpu.throttling.throttledTime / NS_PER_S);
    }
    if (mem) {
      if (mem.usage) {
        set.add("container_memory_usage_bytes", mem.usage.usage);
        set.add("container_memory_max_usage_bytes", mem.usage.max);
        set.add("container_memory_failcnt", mem.usage.failcnt);
      }
      if (sample.memory) set.add("container_memory_working_set_bytes", sample.memory.workingSetBytes);
      set.add("container_memory_rss", mem.totalRss);
      set.add("container_memory_cache", mem.totalCache);
      set.add("container_memory_mapped_file", mem.totalMappedFile);
      set.add("container_memory_total_active_file_bytes", mem.totalActiveFile);
      set.add("container_memory_total_inactive_file_bytes", mem.totalInactiveFile);
      set.add("container_memory_failures_total", mem.totalPgFault, ["pgfault", "container"]);
      set.add("container_memory_failures_total", mem.totalPgMajFault, ["pgmajfault", "container"]);
      if (sample.swap) set.add("container_memory_swap", sample.swap.usageBytes);
    }
    if (oom) set.add("container_oom_events_total", oom.oomKill);
    if (pids) set.add("container_processes", pids.current);
  } else {
    const { cpu, memory: mem, memoryEvents, pids } = m.v2;
    if (cpu) {
      set.add("container_cpu_usage_seconds_total", (cpu.usageUsec * 1000n) / NS_PER_S);
      set.add("container_cpu_user_seconds_total", (cpu.userUsec * 1000n) / NS_PER_S);
      set.add("container_cpu_system_seconds_total", (cpu.systemUsec * 1000n) / NS_PER_S);
      set.add("container_cpu_cfs_periods_total", cpu.nrPeriods);
      set.add("container_cpu_cfs_throttled_periods_total", cpu.nrThrottled);
      set.add("container_cpu_cfs_throttled_seconds_total", (cpu.throttledUsec * 1000n) / NS_PER_S);
    }
    if (mem) {
      set.add("container_memory_usage_bytes", mem.usage);
      set.add("container_memory_max_usage_bytes", mem.maxUsage);
      if (sample.memory) set.add("container_memory_working_set_bytes", sample.memory.workingSetBytes);
      set.add("container_memory_rss", mem.anon);
      set.add("container_memory_cache", mem.file);
      set.add("container_memory_mapped_file", mem.fileMapped);
      set.add("container_memory_total_active_file_bytes", mem.activeFile);
      set.add("container_memory_total_inactive_file_bytes", mem.inactiveFile);
      set.add("container_memory_failures_total", mem.pgfault, ["pgfault", "container"]);
      set.add("container_memory_failures_total", mem.pgmajfault, ["pgmajfault", "container"]);
      set.add("container_memory_swap", mem.swapUsage);
    }
    if (memoryEvents) set.add("container_oom_events_total", memoryEvents.oomKill);
    if (pids) set.add("container_processes", pids.current);
  }
}

/** What the container was given, from its OCI spec (cAdvisor's container_spec_*). */
export function addSpecMetrics(set: MetricSet, spec: OciSpec): void {
  const r = spec.linux?.resources;
  if (r?.cpu?.period !== undefined) set.add("container_spec_cpu_period", r.cpu.period);
  if (r?.cpu?.quota !== undefined && r.cpu.quota > 0) set.add("container_spec_cpu_quota", r.cpu.quota);
  if (r?.cpu?.shares !== undefined) set.add("container_spec_cpu_shares", r.cpu.shares);
  set.add("container_spec_memory_limit_bytes", r?.memory?.limit !== undefined && r.memory.limit > 0 ? r.memory.limit : 0);
}

export function addNetworkMetrics(set: MetricSet, ifaces: InterfaceCounters[]): void {
  for (const i of ifaces) {
    const l = [i.name];
    set.add("container_network_receive_bytes_total", i.rxBytes, l);
    set.add("container_network_receive_packets_total", i.rxPackets, l);
    set.add("container_network_receive_packets_dropped_total", i.rxDropped, l);
    set.add("container_network_receive_errors_total", i.rxErrors, l);
    set.add("container_network_transmit_bytes_total", i.txBytes, l);
    set.add("container_network_transmit_packets_total", i.txPackets, l);
    set.add("container_network_transmit_packets_dropped_total", i.txDropped, l);
    set.add("container_network_transmit_errors_total", i.txErrors, l);
  }
}
