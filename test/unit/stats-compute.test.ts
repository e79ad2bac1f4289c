// What the stats RPCs compute around the decoded numbers: usage_nano_cores from the
// previous sample, /proc/<pid>/net/dev, the pod cgroup's files, the CRI messages and the
// cAdvisor metrics whose label values must match their descriptors.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { MetricsSchema as V1 } from "../../src/gen/github.com/containerd/cgroups/v3/cgroup1/stats/metrics_pb.js";
import { CpuRateTracker, MIN_WINDOW_NS, nanoCores } from "../../src/stats/cpu-rate.js";
import { parseNetDev } from "../../src/stats/net-dev.js";
import { countPodProcesses, readCgroupSample, sampleFromV1Files, sampleFromV2Files } from "../../src/stats/pod-cgroup.js";
import { criContainerStats, criNetwork, criWritableLayer } from "../../src/stats/cri-stats.js";
import { addCgroupMetrics, addNetworkMetrics, addSpecMetrics, BASE_LABEL_KEYS, metricDescriptors, MetricSet } from "../../src/stats/cadvisor-metrics.js";

const S = 1_000_000_000n;

describe("usage_nano_cores", () => {
  test("one core busy for 2s is 1e9; half a core is 5e8", () => {
    assert.equal(nanoCores({ usageNs: 0n, atNs: 0n }, { usageNs: 2n * S, atNs: 2n * S }), S);
    assert.equal(nanoCores({ usageNs: 10n * S, atNs: 100n * S }, { usageNs: 11n * S, atNs: 102n * S }), S / 2n);
  });

  test("the tracker: no rate on the first sample, the rate since the last one after", () => {
    const t = new CpuRateTracker();
    assert.equal(t.rate("c", { usageNs: 1n * S, atNs: 10n * S }), undefined);
    assert.equal(t.rate("c", { usageNs: 3n * S, atNs: 12n * S }), S);
    assert.equal(t.rate("c", { usageNs: 3n * S, atNs: 14n * S }), 0n, "idle");
    assert.equal(t.rate("other", { usageNs: 5n * S, atNs: 14n * S }), undefined, "per id");
  });

  test("a sample right after the last keeps the last rate (pod and container stats asked back to back)", () => {
    const t = new CpuRateTracker();
    t.rate("c", { usageNs: 0n, atNs: 0n });
    assert.equal(t.rate("c", { usageNs: 2n * S, atNs: 4n * S }), S / 2n);
    assert.equal(t.rate("c", { usageNs: 2n * S + 1000n, atNs: 4n * S + MIN_WINDOW_NS / 10n }), S / 2n);
    // The next full window is measured from the sample that set the rate.
    assert.equal(t.rate("c", { usageNs: 4n * S, atNs: 6n * S }), S);
  });

  test("a counter that went back (a new task under the id) starts over", () => {
    const t = new CpuRateTracker();
    t.rate("c", { usageNs: 50n * S, atNs: 10n * S });
    assert.equal(t.rate("c", { usageNs: 1n * S, atNs: 10n * S + 1000n }), undefined);
    assert.equal(t.rate("c", { usageNs: 2n * S, atNs: 12n * S + 1000n }), S / 2n);
  });

  test("retain forgets the gone", () => {
    const t = new CpuRateTracker();
    t.rate("a", { usageNs: 0n, atNs: 0n });
    t.rate("b", { usageNs: 0n, atNs: 0n });
    t.retain((id) => id === "a");
    assert.equal(t.rate("b", { usageNs: S, atNs: 2n * S }), undefined);
    assert.equal(t.rate("a", { usageNs: S, atNs: 2n * S }), S / 2n);
  });
});

describe("/proc/<pid>/net/dev", () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  eth0: 1234567    890    1    2    0     0          0         0   765432     543    3    4    0     0       0          0
  net1:      10       1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
`;
  test("every interface but lo, with bytes, packets, errors and drops", () => {
    assert.deepEqual(parseNetDev(text), [
      { name: "eth0", rxBytes: 1234567n, rxPackets: 890n, rxErrors: 1n, rxDropped: 2n, txBytes: 765432n, txPackets: 543n, txErrors: 3n, txDropped: 4n },
      { name: "net1", rxBytes: 10n, rxPackets: 1n, rxErrors: 0n, rxDropped: 0n, txBytes: 20n, txPackets: 2n, txErrors: 0n, txDropped: 0n },
    ]);
  });
  test("eth0 is the default interface, the others are listed apart", () => {
    const n = criNetwork(parseNetDev(text), 7n);
    assert.equal(n.timestamp, 7n);
    assert.equal(n.defaultInterface?.name, "eth0");
    assert.deepEqual(n.defaultInterface?.rxBytes, { value: 1234567n });
    assert.deepEqual(n.interfaces?.map((i) => i.name), ["net1"]);
  });
  test("this process's own namespace parses", async () => {
    const { readNetDev } = await import("../../src/stats/net-dev.js");
    assert.ok(Array.isArray(await readNetDev(process.pid)));
  });
});

describe("pod cgroup files", () => {
  test("v1: cpuacct.usage, memory counters and memory.stat's total_* keys", () => {
    const s = sampleFromV1Files({
      "cpuacct.usage": "123456789\n",
      "memory.usage_in_bytes": "104857600\n",
      "memory.limit_in_bytes": "9223372036854771712\n",
      "memory.stat": "cache 1\nrss 2\ntotal_rss 52428800\ntotal_inactive_file 10485760\ntotal_pgfault 99\ntotal_pgmajfault 3\n",
      "memory.memsw.usage_in_bytes": "104857600\n",
      "memory.memsw.limit_in_bytes": "9223372036854771712\n",
      "pids.current": "7\n",
    });
    assert.deepEqual(s, {
      cpuUsageNs: 123456789n,
      memory: { usageBytes: 104857600n, workingSetBytes: 94371840n, availableBytes: 0n, rssBytes: 52428800n, pageFaults: 99n, majorPageFaults: 3n },
      swap: { usageBytes: 0n, availableBytes: 0n },
      pids: 7n,
    });
  });
  test("v2: cpu.stat usage_usec, memory.current/max, memory.stat", () => {
    const s = sampleFromV2Files({
      "cpu.stat": "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\n",
      "memory.current": "1000\n",
      "memory.max": "4000\n",
      "memory.stat": "anon 600\nfile 400\ninactive_file 100\npgfault 5\npgmajfault 0\n",
      "memory.swap.current": "0\n",
      "memory.swap.max": "max\n",
    });
    assert.equal(s.cpuUsageNs, 2_000_000n);
    assert.deepEqual(s.memory, { usageBytes: 1000n, workingSetBytes: 900n, availableBytes: 3100n, rssBytes: 600n, pageFaults: 5n, majorPageFaults: 0n });
    assert.deepEqual(s.swap, { usageBytes: 0n, availableBytes: 0n });
  });
  test("read from a cgroup tree; a missing pod cgroup gives nothing", async () => {
    const root = mkdtempSync(join(tmpdir(), "crib-cgroup-"));
    try {
      mkdirSync(join(root, "cpuacct/kubepods/pod1"), { recursive: true });
      mkdirSync(join(root, "memory/kubepods/pod1"), { recursive: true });
      writeFileSync(join(root, "cpuacct/kubepods/pod1/cpuacct.usage"), "42\n");
      writeFileSync(join(root, "memory/kubepods/pod1/memory.usage_in_bytes"), "100\n");
      writeFileSync(join(root, "memory/kubepods/pod1/memory.limit_in_bytes"), "1000\n");
      const s = await readCgroupSample("v1", "/kubepods/pod1", root);
      assert.equal(s?.cpuUsageNs, 42n);
      assert.equal(s?.memory?.availableBytes, 900n);
      assert.equal(await readCgroupSample("v1", "/kubepods/gone", root), undefined);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("pod process count", () => {
  test("cgroup.procs of the pod cgroup and its containers', leaving the pause container out", async () => {
    const root = mkdtempSync(join(tmpdir(), "crib-cgroup-"));
    try {
      const pod = join(root, "pids/kubepods/pod1");
      for (const d of ["", "sandbox-abc", "ctr-1", "ctr-2", "ctr-2/nested"]) mkdirSync(join(pod, d), { recursive: true });
      writeFileSync(join(pod, "cgroup.procs"), "");
      writeFileSync(join(pod, "sandbox-abc/cgroup.procs"), "100\n");
      writeFileSync(join(pod, "ctr-1/cgroup.procs"), "200\n201\n");
      writeFileSync(join(pod, "ctr-2/cgroup.procs"), "300\n");
      writeFileSync(join(pod, "ctr-2/nested/cgroup.procs"), "301\n");
      assert.equal(await countPodProcesses("v1", "/kubepods/pod1", (d) => d.includes("abc"), root), 4n);
      assert.equal(await countPodProcesses("v1", "/kubepods/gone", () => false, root), undefined);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("CRI messages", () => {
  test("a container with a task: cpu, memory, swap and its layer, all timestamped", () => {
    const s = criContainerStats({
      attributes: { id: "c1" },
      sample: {
        sample: { cpuUsageNs: 5n, memory: { usageBytes: 10n, workingSetBytes: 8n, availableBytes: 2n, rssBytes: 6n, pageFaults: 1n, majorPageFaults: 0n }, swap: { usageBytes: 0n, availableBytes: 0n } },
        atNs: 99n,
        nanoCores: 7n,
      },
      writableLayer: criWritableLayer({ timestamp: 50n, usedBytes: 4096n, inodesUsed: 3n }, "/var/lib/snap", 99n),
    });
    assert.deepEqual(s.cpu, { timestamp: 99n, usageCoreNanoSeconds: { value: 5n }, usageNanoCores: { value: 7n } });
    assert.equal(s.memory?.timestamp, 99n);
    assert.deepEqual(s.memory?.workingSetBytes, { value: 8n });
    assert.equal(s.swap?.timestamp, 99n);
    assert.deepEqual(s.writableLayer, { timestamp: 50n, fsId: { mountpoint: "/var/lib/snap" }, usedBytes: { value: 4096n }, inodesUsed: { value: 3n } });
  });
  test("the first sample has no usage_nano_cores; no task means no cpu or memory", () => {
    const first = criContainerStats({ attributes: { id: "c" }, sample: { sample: { cpuUsageNs: 5n }, atNs: 1n, nanoCores: undefined }, writableLayer: criWritableLayer(undefined, "/m", 1n) });
    assert.equal(first.cpu?.usageNanoCores, undefined);
    const exited = criContainerStats({ attributes: { id: "c" }, writableLayer: criWritableLayer(undefined, "/m", 3n) });
    assert.equal(exited.cpu, undefined);
    assert.equal(exited.memory, undefined);
    assert.deepEqual(exited.writableLayer?.usedBytes, { value: 0n });
    assert.equal(exited.writableLayer?.timestamp, 3n);
  });
});

describe("cAdvisor metrics", () => {
  const labels = { container: "app", id: "c1", image: "busybox", name: "app_pod_ns_uid_0", namespace: "ns", pod: "pod" };
  test("every metric's label values line up with its descriptor's keys", () => {
    const set = new MetricSet(labels, 5n);
    addCgroupMetrics(set, {
      version: 1,
      v1: create(V1, {
        cpu: { usage: { total: 3n * S, user: 2n * S, kernel: S }, throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: S } },
        memory: { usage: { usage: 100n, max: 150n, failcnt: 1n }, totalInactiveFile: 20n, totalRss: 50n, totalCache: 30n, swap: { usage: 120n, limit: 200n } },
        memoryOomControl: { oomKill: 1n },
        pids: { current: 4n },
      }),
    });
    addSpecMetrics(set, { ociVersion: "1.2.0", linux: { resources: { cpu: { shares: 512, quota: 50000, period: 100000 }, memory: { limit: 1 << 20 } } } } as never);
    addNetworkMetrics(set, [{ name: "eth0", rxBytes: 1n, rxPackets: 1n, rxErrors: 0n, rxDropped: 0n, txBytes: 2n, txPackets: 1n, txErrors: 0n, txDropped: 0n }]);
    const keys = new Map(metricDescriptors().map((d) => [d.name!, d.labelKeys!]));
    const byName = new Map<string, bigint>();
    for (const m of set.metrics) {
      const k = keys.get(m.name!);
      assert.ok(k, `${m.name} has a descriptor`);
      assert.equal(m.labelValues!.length, k.length, `${m.name}: ${k.join(",")}`);
      assert.deepEqual(m.labelValues!.slice(0, BASE_LABEL_KEYS.length), ["app", "c1", "busybox", "app_pod_ns_uid_0", "ns", "pod"]);
      assert.equal(m.timestamp, 5n);
      if (m.labelValues!.length === BASE_LABEL_KEYS.length) byName.set(m.name!, m.value!.value!);
    }
    assert.equal(byName.get("container_cpu_usage_seconds_total"), 3n);
    assert.equal(byName.get("container_memory_working_set_bytes"), 80n);
    assert.equal(byName.get("container_memory_swap"), 20n);
    assert.equal(byName.get("container_oom_events_total"), 1n);
    assert.equal(byName.get("container_processes"), 4n);
    assert.equal(byName.get("container_spec_cpu_shares"), 512n);
    assert.equal(byName.get("container_spec_memory_limit_bytes"), 1n << 20n);
    assert.ok(set.metrics.some((m) => m.name === "container_network_receive_bytes_total" && m.labelValues!.at(-1) === "eth0"));
  });
  test("a label count that does not fit the descriptor is refused", () => {
    assert.throws(() => new MetricSet(labels, 1n).add("container_network_receive_bytes_total", 1n), /takes labels interface/);
  });
  test("descriptor names are unique", () => {
    const names = metricDescriptors().map((d) => d.name);
    assert.equal(new Set(names).size, names.length);
  });
});

describe("Tasks.Metrics batches", () => {
  test("at most 8 calls of at least 4 containers, all containers once", async () => {
    const { batches } = await import("../../src/stats/stats-context.js");
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
    assert.deepEqual(batches(ids(0)), []);
    assert.deepEqual(batches(ids(3)), [[0, 1, 2]]);
    assert.deepEqual(batches(ids(9)).map((b) => b.length), [3, 3, 3]);
    const many = batches(ids(100));
    assert.equal(many.length, 8);
    assert.deepEqual(many.flat(), ids(100));
  });
});
