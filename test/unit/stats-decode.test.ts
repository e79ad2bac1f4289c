// Tasks.Metrics payloads (cgroup v1 and v2, as the runc shim packs them) to the kubelet's
// numbers: working set, available bytes, RSS, faults, swap and CPU in nanoseconds.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { MetricsSchema as V1 } from "../../src/gen/github.com/containerd/cgroups/v3/cgroup1/stats/metrics_pb.js";
import { MetricsSchema as V2 } from "../../src/gen/github.com/containerd/cgroups/v3/cgroup2/stats/metrics_pb.js";
import { decodeCgroupMetrics, sampleOf, swapSampleV1, type CgroupSample } from "../../src/stats/cgroup-sample.js";

const UNLIMITED_V1 = 9223372036854771712n; // PAGE_COUNTER_MAX in bytes, what v1 reports without a limit
const any = (typeUrl: string, bytes: Uint8Array) => create(AnySchema, { typeUrl, value: bytes });
const v1Any = (init: MessageInitShape<typeof V1>, url = "io.containerd.cgroups.v1.Metrics") => any(url, toBinary(V1, create(V1, init)));
const v2Any = (init: MessageInitShape<typeof V2>, url = "io.containerd.cgroups.v2.Metrics") => any(url, toBinary(V2, create(V2, init)));
const decode = (a: ReturnType<typeof any>): CgroupSample => {
  const m = decodeCgroupMetrics(a);
  assert.ok(m, "decoded");
  return sampleOf(m);
};

describe("cgroup v1 payloads", () => {
  const base = {
    cpu: { usage: { total: 5_000_000_000n, user: 3_000_000_000n, kernel: 2_000_000_000n } },
    memory: {
      usage: { usage: 80n << 20n, limit: 128n << 20n },
      totalInactiveFile: 30n << 20n,
      totalRss: 45n << 20n,
      totalPgFault: 1234n,
      totalPgMajFault: 5n,
      swap: { usage: 90n << 20n, limit: 256n << 20n },
    },
    pids: { current: 3n, limit: 0n },
  };

  test("working set is usage minus inactive file; available is the limit minus it", () => {
    const s = decode(v1Any(base));
    assert.equal(s.cpuUsageNs, 5_000_000_000n);
    assert.deepEqual(s.memory, {
      usageBytes: 80n << 20n,
      workingSetBytes: 50n << 20n,
      availableBytes: 78n << 20n,
      rssBytes: 45n << 20n,
      pageFaults: 1234n,
      majorPageFaults: 5n,
    });
    assert.equal(s.pids, 3n);
  });

  test("memsw counts memory too: swap in use is the difference", () => {
    const s = decode(v1Any(base));
    // memsw 90 MiB - memory 80 MiB = 10 MiB swapped; may swap (256-128) - 10 = 118 MiB more.
    assert.deepEqual(s.swap, { usageBytes: 10n << 20n, availableBytes: 118n << 20n });
  });

  const cases: { name: string; memory: MessageInitShape<typeof V1>["memory"]; want: Partial<NonNullable<CgroupSample["memory"]>> }[] = [
    { name: "no limit: available 0", memory: { usage: { usage: 10n, limit: UNLIMITED_V1 }, totalInactiveFile: 4n }, want: { workingSetBytes: 6n, availableBytes: 0n } },
    { name: "inactive file above usage: working set 0", memory: { usage: { usage: 10n, limit: 100n }, totalInactiveFile: 40n }, want: { workingSetBytes: 0n, availableBytes: 100n } },
    { name: "working set above the limit: available 0", memory: { usage: { usage: 200n, limit: 100n } }, want: { workingSetBytes: 200n, availableBytes: 0n } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const m = decode(v1Any({ memory: c.memory })).memory!;
      for (const [k, v] of Object.entries(c.want)) assert.equal(m[k as keyof typeof m], v, k);
    });
  }

  test("no memsw numbers (swap accounting off): no swap", () => {
    assert.equal(decode(v1Any({ memory: { usage: { usage: 10n, limit: 100n } } })).swap, undefined);
  });

  test("no cpu or memory in the payload: left unset", () => {
    assert.deepEqual(decode(v1Any({})), {});
  });

  test("swap without limits is not 'available'", () => {
    assert.deepEqual(swapSampleV1(10n, UNLIMITED_V1, 15n, UNLIMITED_V1), { usageBytes: 5n, availableBytes: 0n });
  });
});

describe("cgroup v2 payloads", () => {
  test("usage_usec in nanoseconds, anon as RSS, memory.max as the limit", () => {
    const s = decode(
      v2Any({
        cpu: { usageUsec: 2_500_000n },
        memory: { usage: 60n << 20n, usageLimit: 100n << 20n, inactiveFile: 20n << 20n, anon: 35n << 20n, pgfault: 77n, pgmajfault: 1n, swapUsage: 4n << 20n, swapLimit: 10n << 20n },
        pids: { current: 2n },
      }),
    );
    assert.equal(s.cpuUsageNs, 2_500_000_000n);
    assert.deepEqual(s.memory, { usageBytes: 60n << 20n, workingSetBytes: 40n << 20n, availableBytes: 60n << 20n, rssBytes: 35n << 20n, pageFaults: 77n, majorPageFaults: 1n });
    assert.deepEqual(s.swap, { usageBytes: 4n << 20n, availableBytes: 6n << 20n });
  });

  test("memory.max 'max' arrives as 0 or a huge number: no available bytes", () => {
    for (const usageLimit of [0n, 18446744073709551615n]) {
      assert.equal(decode(v2Any({ memory: { usage: 5n, usageLimit } })).memory?.availableBytes, 0n);
    }
  });
});

describe("decodeCgroupMetrics", () => {
  test("by type URL, with or without a prefix", () => {
    assert.equal(decodeCgroupMetrics(v1Any({}, "type.googleapis.com/io.containerd.cgroups.v1.Metrics"))?.version, 1);
    assert.equal(decodeCgroupMetrics(v2Any({}, "io.containerd.cgroups.v2.Metrics"))?.version, 2);
  });
  test("another payload (Windows stats, a VM runtime) is not guessed at", () => {
    assert.equal(decodeCgroupMetrics(any("io.microsoft.hcs.stats.Statistics", new Uint8Array())), undefined);
    assert.equal(decodeCgroupMetrics(undefined), undefined);
  });
  test("v1 bytes under a v2 URL decode as v2 (the URL decides)", () => {
    assert.equal(decodeCgroupMetrics(v1Any({}, "io.containerd.cgroups.v2.Metrics"))?.version, 2);
  });
});
