// Starts crib in-process for one integration test file, against the harness's containerd
// and registries, in a containerd namespace of its own (so its images, containers,
// content and leases are its alone and can be asserted on), and connects a CRI client.
//
//   const t = await startTestCrib({ imagePullProgressTimeoutMs: 2000 });
//   await t.client.image.pullImage({ image: { image: t.harness.images.busybox } });
//   t.rpcLogs("PullImage")   // crib's log lines for that RPC, with their containerd calls
//   after(() => t.stop());
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { Writable } from "node:stream";
import winston from "winston";
import { DEFAULTS, type Config } from "../../../src/config.js";
import type { Containerd } from "../../../src/containerd/client.js";
import type { TracedCall } from "../../../src/containerd/trace.js";
import { startCrib, type Crib } from "../../../src/server/server.js";
import { connectCri, type CriClient } from "../../client/cri-client.js";
import { loadHarness, type HarnessInfo } from "../../harness/env.js";

/** One structured log line crib wrote. */
export interface LogRecord {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** What the instrumented wrapper logs per RPC (see src/server/instrument.ts). */
export interface RpcLogRecord extends LogRecord {
  rpc: string;
  containerd?: TracedCall[];
  code?: string;
  error?: string;
}

export interface TestCrib {
  client: CriClient;
  crib: Crib;
  config: Config;
  harness: HarnessInfo;
  /** crib's containerd clients, on the test's namespace. */
  containerd: Containerd;
  /** Every log record crib wrote so far (debug level and up). */
  logs: LogRecord[];
  /** The per-RPC log records of one RPC ("PullImage"), in order. */
  rpcLogs(rpc: string): RpcLogRecord[];
  /** Removes every pod (and so its containers) a failed test may have left. */
  removeAllPods(): Promise<void>;
  stop(): Promise<void>;
}

/** "crib-images-1a2b3c" for test/integration/images.test.ts. */
function namespaceForTestFile(): string {
  const file = basename(process.argv[1] ?? "test").replace(/\.test\.[cm]?[tj]s$/, "").replace(/[^a-z0-9-]/gi, "-").toLowerCase();
  return `crib-${file}-${randomBytes(3).toString("hex")}`;
}

function capturingLogger(records: LogRecord[]): winston.Logger {
  const sink = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, done) {
      records.push({ ...info } as LogRecord);
      if (process.env.CRIB_TEST_LOG === "1") process.stderr.write(`crib ${JSON.stringify(info)}\n`);
      done();
    },
  });
  return winston.createLogger({ level: "debug", transports: [new winston.transports.Stream({ stream: sink })] });
}

export async function startTestCrib(overrides: Partial<Config> = {}): Promise<TestCrib> {
  const harness = loadHarness();
  const namespace = overrides.namespace ?? namespaceForTestFile();
  const dir = join(harness.scratchDir, namespace);
  mkdirSync(dir, { recursive: true });
  const config: Config = {
    ...DEFAULTS,
    listen: join(dir, "crib.sock"),
    containerdAddress: harness.containerd.address,
    namespace,
    logLevel: "debug",
    rootDir: join(dir, "root"),
    stateDir: join(dir, "state"),
    sandboxImage: harness.images.pause,
    registryConfigPath: harness.hostsDir,
    cniBinDir: harness.cni.binDir,
    cniConfDir: harness.cni.confDir,
    ...overrides,
  };
  const logs: LogRecord[] = [];
  const crib = await startCrib(config, capturingLogger(logs));
  const client = connectCri(config.listen);
  let stopped = false;
  return {
    client,
    crib,
    config,
    harness,
    containerd: crib.deps.containerd,
    logs,
    rpcLogs: (rpc) => logs.filter((l): l is RpcLogRecord => l["rpc"] === rpc),
    async removeAllPods() {
      for (const p of (await client.runtime.listPodSandbox({})).items) await client.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      client.close();
      await crib.stop();
    },
  };
}
