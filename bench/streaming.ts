// bench/streaming: exec round-trip latency (Exec RPC + SPDY session running `true` to its
// exit status, as kubectl/crictl exec do) and port-forward throughput (MB/s of a 100 MiB
// download over one forwarded connection into a CNI pod), crib vs containerd's built-in
// CRI, both driven by crib's own SPDY client.
import { loadHarness } from "../test/harness/env.js";
import { dialPortForward, runSpdyRemoteCommand } from "../test/client/streaming-client.js";
import type { SpdyStream } from "../src/streaming/spdy/stream.js";
import { benchPodConfig, percentile, sample, timeMs, type Row, type Target, type BenchPodConfig } from "./lib.js";

const EXEC_SAMPLES = 50;
const DOWNLOAD_BYTES = 100 * 1024 * 1024;
const DOWNLOADS = 3;
const HTTP_PORT = 8080;

interface Pod {
  id: string;
  config: BenchPodConfig;
}


async function startPod(t: Target, image: string, name: string, command: string[]): Promise<{ pod: Pod; containerId: string }> {
  const config = benchPodConfig(t.name, name, "pod");
  const { podSandboxId } = await t.client.runtime.runPodSandbox({ config });
  const pod = { id: podSandboxId, config };
  const container = { metadata: { name, attempt: 0 }, image: { image }, command, logPath: `${name}.log` };
  const { containerId } = await t.client.runtime.createContainer({ podSandboxId, config: container, sandboxConfig: config });
  await t.client.runtime.startContainer({ containerId });
  return { pod, containerId };
}

async function execRoundTrips(t: Target, image: string): Promise<number[]> {
  const { pod, containerId } = await startPod(t, image, "exec", ["sleep", "3600"]);
  try {
    return await sample(EXEC_SAMPLES, async () => {
      const { url } = await t.client.runtime.exec({ containerId, cmd: ["true"], stdout: true, stderr: true });
      const r = await runSpdyRemoteCommand(url, { stdout: true, stderr: true });
      if (r.exitCode !== 0) throw new Error(`exec failed on ${t.name}: ${r.error ?? r.exitCode}`);
    });
  } finally {
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id }).catch(() => {});
  }
}

/** Bytes of the HTTP answer to `path` over one forwarded connection; resolves at EOF. */
function download(data: SpdyStream, path: string): Promise<number> {
  let bytes = 0;
  data.on("data", (c: Buffer) => (bytes += c.length));
  data.write(`GET ${path} HTTP/1.0\r\n\r\n`);
  return new Promise((resolve, reject) => {
    data.once("end", () => resolve(bytes));
    data.once("close", () => resolve(bytes));
    data.once("error", reject);
  });
}

async function forwardedDownload(t: Target, podId: string, path: string): Promise<number> {
  const { url } = await t.client.runtime.portForward({ podSandboxId: podId, port: [HTTP_PORT] });
  const pf = await dialPortForward(url);
  try {
    const { data } = await pf.connect(HTTP_PORT);
    return await download(data, path);
  } finally {
    await pf.close();
  }
}

/** MB/s (10^6 bytes) of each 100 MiB download. */
async function portForwardThroughput(t: Target, image: string): Promise<number[]> {
  const serve = `mkdir -p /www && echo ok > /www/ready && head -c ${DOWNLOAD_BYTES} /dev/zero > /www/big && exec httpd -f -p ${HTTP_PORT} -h /www`;
  const { pod } = await startPod(t, image, "pf", ["sh", "-c", serve]);
  try {
    const deadline = Date.now() + 60_000;
    while ((await forwardedDownload(t, pod.id, "/ready").catch(() => 0)) === 0) {
      if (Date.now() > deadline) throw new Error(`httpd in the ${t.name} pod never answered`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const rates: number[] = [];
    for (let i = 0; i < DOWNLOADS; i++) {
      const [ms, bytes] = await timeMs(() => forwardedDownload(t, pod.id, "/big"));
      if (bytes < DOWNLOAD_BYTES) throw new Error(`short download on ${t.name}: ${bytes} bytes`);
      rates.push(bytes / 1e6 / (ms / 1000));
    }
    return rates;
  } finally {
    await t.client.runtime.removePodSandbox({ podSandboxId: pod.id }).catch(() => {});
  }
}

export async function benchStreaming(targets: Target[]): Promise<Row[]> {
  const image = loadHarness().images.busybox;
  const execs: Record<string, number[]> = {};
  const rates: Record<string, number[]> = {};
  for (const t of targets) {
    await t.client.image.pullImage({ image: { image } });
    execs[t.name] = await execRoundTrips(t, image);
    rates[t.name] = await portForwardThroughput(t, image);
  }
  const values = (pick: (name: string) => number) => ({ crib: pick("crib"), "containerd-cri": pick("containerd-cri") });
  return [
    { metric: `exec round trip p50 (\`true\`, ${EXEC_SAMPLES} sessions)`, unit: "ms", better: "lower", values: values((n) => percentile(execs[n]!, 50)) },
    { metric: "exec round trip p99", unit: "ms", better: "lower", values: values((n) => percentile(execs[n]!, 99)) },
    {
      metric: `port-forward throughput (100 MiB, 1 connection, median of ${DOWNLOADS})`,
      unit: "MB/s",
      better: "higher",
      values: values((n) => percentile(rates[n]!, 50)),
    },
  ];
}
