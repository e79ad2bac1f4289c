// The metrics endpoint: where it listens, what the exposition says after RPCs, containerd
// calls, pulls and store changes, and what the HTTP side answers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CribMetrics, type MetricSources } from "../../src/metrics/crib-metrics.js";
import { parseMetricsAddress } from "../../src/metrics/listen-address.js";
import { startMetricsServer } from "../../src/metrics/metrics-server.js";
import { silentLogger } from "../../src/log.js";

describe("parseMetricsAddress", () => {
  const cases: { in: string; want?: { host: string; port: number }; error?: RegExp }[] = [
    { in: "127.0.0.1:9090", want: { host: "127.0.0.1", port: 9090 } },
    { in: ":9090", want: { host: "127.0.0.1", port: 9090 } },
    { in: "0.0.0.0:1338", want: { host: "0.0.0.0", port: 1338 } },
    { in: "[::1]:9090", want: { host: "::1", port: 9090 } },
    { in: "localhost:0", want: { host: "localhost", port: 0 } },
    { in: "9090", error: /expected host:port/ },
    { in: "127.0.0.1:", error: /expected host:port/ },
    { in: "::1:9090", error: /expected host:port/ },
    { in: "127.0.0.1:70000", error: /port out of range/ },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.in), () => {
      if (c.error) assert.throws(() => parseMetricsAddress(c.in), c.error);
      else assert.deepEqual(parseMetricsAddress(c.in), c.want);
    });
  }
});

function fakeSources(over: Partial<MetricSources> = {}): MetricSources {
  return {
    podStates: () => ["ready", "ready", "notready"],
    containerStates: () => ["running", "exited", "exited", "created"],
    pullsInFlight: () => 2,
    bytesPulled: () => 12345,
    ...over,
  };
}

/** The value of one sample line, e.g. sample(text, 'crib_containers{state="running"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("CribMetrics exposition", () => {
  test("counts RPCs, errors by code and latencies", async () => {
    const m = new CribMetrics(fakeSources());
    m.observeRpc("ListPodSandbox", "OK", 0.002);
    m.observeRpc("ListPodSandbox", "OK", 0.004);
    m.observeRpc("PodSandboxStatus", "NOT_FOUND", 0.001);
    m.observeRpc("PodSandboxStatus", "OK", 0.001);
    const { body, contentType } = await m.exposition();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(sample(body, 'crib_cri_requests_total{method="ListPodSandbox"}'), 2);
    assert.equal(sample(body, 'crib_cri_requests_total{method="PodSandboxStatus"}'), 2);
    assert.equal(sample(body, 'crib_cri_request_errors_total{method="PodSandboxStatus",code="NOT_FOUND"}'), 1);
    assert.equal(sample(body, 'crib_cri_request_errors_total{method="ListPodSandbox",code="OK"}'), undefined);
    assert.equal(sample(body, 'crib_cri_request_duration_seconds_count{method="ListPodSandbox"}'), 2);
    assert.equal(sample(body, 'crib_cri_request_duration_seconds_bucket{le="0.0025",method="ListPodSandbox"}'), 1);
    assert.ok(Math.abs(sample(body, 'crib_cri_request_duration_seconds_sum{method="ListPodSandbox"}')! - 0.006) < 1e-9);
  });

  test("containerd call latencies by method and code", async () => {
    const m = new CribMetrics(fakeSources());
    m.observeContainerdCall("tasks.v1.Tasks/Metrics", "OK", 0.0003);
    m.observeContainerdCall("tasks.v1.Tasks/Get", "NOT_FOUND", 0.0002);
    const { body } = await m.exposition();
    assert.equal(sample(body, 'crib_containerd_request_duration_seconds_count{method="tasks.v1.Tasks/Metrics",code="OK"}'), 1);
    assert.equal(sample(body, 'crib_containerd_request_duration_seconds_count{method="tasks.v1.Tasks/Get",code="NOT_FOUND"}'), 1);
  });

  test("pods, containers, pulls and bytes are read at scrape time", async () => {
    let pods = ["ready"];
    let bytes = 100;
    const m = new CribMetrics(fakeSources({ podStates: () => pods, bytesPulled: () => bytes }));
    let { body } = await m.exposition();
    assert.equal(sample(body, 'crib_pod_sandboxes{state="ready"}'), 1);
    assert.equal(sample(body, 'crib_pod_sandboxes{state="notready"}'), 0, "every known state is exported, zero included");
    assert.equal(sample(body, 'crib_containers{state="exited"}'), 2);
    assert.equal(sample(body, 'crib_containers{state="running"}'), 1);
    assert.equal(sample(body, 'crib_containers{state="unknown"}'), 0);
    assert.equal(sample(body, "crib_image_pulls_in_flight"), 2);
    assert.equal(sample(body, "crib_image_pulled_bytes_total"), 100);
    pods = ["notready", "notready"];
    bytes = 250;
    ({ body } = await m.exposition());
    assert.equal(sample(body, 'crib_pod_sandboxes{state="ready"}'), 0);
    assert.equal(sample(body, 'crib_pod_sandboxes{state="notready"}'), 2);
    assert.equal(sample(body, "crib_image_pulled_bytes_total"), 250);
  });
});

describe("metrics HTTP server", () => {
  test("serves /metrics on loopback, 404 elsewhere, 405 for POST", async () => {
    const m = new CribMetrics(fakeSources());
    m.observeRpc("Version", "OK", 0.001);
    const srv = await startMetricsServer(":0", m, silentLogger());
    try {
      assert.match(srv.address, /^127\.0\.0\.1:\d+$/);
      const ok = await fetch(`http://${srv.address}/metrics`);
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get("content-type") ?? "", /^text\/plain/);
      assert.equal(sample(await ok.text(), 'crib_cri_requests_total{method="Version"}'), 1);
      assert.equal((await fetch(`http://${srv.address}/`)).status, 404);
      assert.equal((await fetch(`http://${srv.address}/metrics`, { method: "POST" })).status, 405);
    } finally {
      await srv.close();
    }
  });

  test("a taken port fails the start", async () => {
    const m = new CribMetrics(fakeSources());
    const first = await startMetricsServer("127.0.0.1:0", m, silentLogger());
    try {
      await assert.rejects(startMetricsServer(first.address, m, silentLogger()), /EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
