// The metrics endpoint against the real containerd: it counts the RPCs this test made, by
// method and code, times the containerd calls behind them, reads pods and containers by
// state, and counts the bytes of a pull.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { status as Code } from "@grpc/grpc-js";
import { codeOfCall } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";

/** The value of one series in a Prometheus text exposition, undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics endpoint", () => {
  let t: TestCrib;
  let url: string;
  const scrape = async () => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    return res.text();
  };

  before(async () => {
    t = await startTestCrib({ restrictOOMScoreAdj: true, metricsAddress: "127.0.0.1:0" });
    const line = t.logs.find((l) => l.message === "serving metrics");
    assert.ok(line, "crib logs the address it serves metrics on");
    url = `http://${String(line["address"])}/metrics`;
  });
  after(() => t?.stop());

  it("listens on loopback only", () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it("counts the RPCs made, errors by code, with latencies", async () => {
    const before = await scrape();
    const versions0 = sample(before, 'crib_cri_requests_total{method="Version"}') ?? 0;
    const notFound0 = sample(before, 'crib_cri_request_errors_total{method="ContainerStatus",code="NOT_FOUND"}') ?? 0;
    for (let i = 0; i < 3; i++) await t.client.runtime.version({});
    for (let i = 0; i < 2; i++) assert.equal(await codeOfCall(t.client.runtime.containerStatus({ containerId: "no-such-container" })), Code.NOT_FOUND);
    await t.client.runtime.status({});
    const after = await scrape();
    assert.equal(sample(after, 'crib_cri_requests_total{method="Version"}'), versions0 + 3);
    assert.equal(sample(after, 'crib_cri_request_errors_total{method="ContainerStatus",code="NOT_FOUND"}'), notFound0 + 2);
    assert.equal(sample(after, 'crib_cri_request_errors_total{method="Version",code="NOT_FOUND"}'), undefined);
    assert.equal(sample(after, 'crib_cri_request_duration_seconds_count{method="Version"}'), versions0 + 3);
    // Status asks containerd's Version service: its latency is recorded by method.
    assert.ok((sample(after, 'crib_containerd_request_duration_seconds_count{method="version.v1.Version/Version",code="OK"}') ?? 0) >= 1);
  });

  it("pods and containers by state, bytes pulled", async () => {
    const pulled0 = sample(await scrape(), "crib_image_pulled_bytes_total") ?? 0;
    assert.equal(t.logs.filter((l) => l.message === "pulled image").length, 0, "nothing pulled before");
    await t.client.image.pullImage({ image: { image: t.harness.images.busybox } });
    const pod = {
      metadata: { name: "metrics-pod", uid: `metrics-${process.pid}`, namespace: "default", attempt: 0 },
      hostname: "metrics-pod",
      linux: {},
    };
    const { podSandboxId } = await t.client.runtime.runPodSandbox({ config: pod });
    const { containerId } = await t.client.runtime.createContainer({
      podSandboxId,
      config: { metadata: { name: "sleeper", attempt: 0 }, image: { image: t.harness.images.busybox }, command: ["sleep", "300"] },
      sandboxConfig: pod,
    });
    let text = await scrape();
    // The counter adds up what each completed pull fetched, as the puller's progress counted it.
    const fetched = t.logs.filter((l) => l.message === "pulled image").reduce((n, l) => n + Number(l["bytesRead"]), 0);
    assert.equal(sample(text, "crib_image_pulled_bytes_total"), pulled0 + fetched);
    assert.equal(sample(text, "crib_image_pulls_in_flight"), 0);
    assert.equal(sample(text, 'crib_pod_sandboxes{state="ready"}'), 1);
    assert.equal(sample(text, 'crib_containers{state="created"}'), 1);
    await t.client.runtime.startContainer({ containerId });
    text = await scrape();
    assert.equal(sample(text, 'crib_containers{state="created"}'), 0);
    assert.equal(sample(text, 'crib_containers{state="running"}'), 1);
    await t.client.runtime.stopPodSandbox({ podSandboxId });
    text = await scrape();
    assert.equal(sample(text, 'crib_pod_sandboxes{state="notready"}'), 1);
    assert.equal(sample(text, 'crib_containers{state="exited"}'), 1);
    await t.client.runtime.removePodSandbox({ podSandboxId });
    text = await scrape();
    assert.equal(sample(text, 'crib_pod_sandboxes{state="notready"}'), 0);
    assert.equal(sample(text, 'crib_containers{state="exited"}'), 0);
    assert.equal(sample(text, 'crib_cri_requests_total{method="RunPodSandbox"}'), 1);
  });
});
