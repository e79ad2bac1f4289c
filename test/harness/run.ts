// Test-run harness: starts containerd, registries, fixtures and CNI config once, runs a
// command against them, and tears everything down whatever happens.
//
//   npx tsx test/harness/run.ts [--with-cri] [--keep] -- <command...>
//
// The command gets CRIB_HARNESS=<tmpDir>/harness.json (read it with loadHarness()).
// --keep (or CRIB_HARNESS_KEEP=1) stops the servers but leaves the temp dir for a look.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startEnvironment, RUNC } from "./environment.js";
import { HARNESS_ENV } from "./env.js";
import { cniNetworkFor } from "./cni.js";
import { stopDaemon, tail, type Daemon } from "./proc.js";
import { abandonedRunDirs, cleanUpRunDir, HARNESS_PID_FILE, TMP_PREFIX } from "./teardown.js";

interface Args {
  withCri: boolean;
  keep: boolean;
  command: string[];
}

export function parseArgs(argv: readonly string[]): Args {
  const sep = argv.indexOf("--");
  const flags = sep < 0 ? argv : argv.slice(0, sep);
  const command = sep < 0 ? [] : argv.slice(sep + 1);
  const args: Args = { withCri: false, keep: process.env.CRIB_HARNESS_KEEP === "1", command };
  for (const f of flags) {
    if (f === "--with-cri") args.withCri = true;
    else if (f === "--keep") args.keep = true;
    else throw new Error(`unknown option ${f}`);
  }
  if (command.length === 0) throw new Error("usage: run.ts [--with-cri] [--keep] -- <command...>");
  return args;
}

/** containerd logs one line per plugin at start; they hide what went wrong. */
const STARTUP_CHATTER = /msg="(skip )?loading plugin"/;

const log = (msg: string) => process.stderr.write(`harness: ${msg}\n`);

/** Owns the run: every server it spawned, the child command, and one teardown. */
class Run {
  readonly daemons: Daemon[] = [];
  child: ChildProcess | undefined;
  private teardown: Promise<void> | undefined;

  constructor(
    readonly tmpDir: string,
    readonly keep: boolean,
  ) {}

  track = (d: Daemon): void => {
    this.daemons.push(d);
    // A signal may have arrived while this daemon was being spawned.
    if (this.teardown) d.child.kill("SIGKILL");
  };

  printLogs(): void {
    for (const d of this.daemons) {
      const lines = tail(d.logPath, 40, STARTUP_CHATTER);
      process.stderr.write(`\n----- ${d.name} (${d.logPath}), last lines -----\n${lines}\n`);
    }
  }

  tearDown(): Promise<void> {
    this.teardown ??= (async () => {
      // CRI containerd first: its pods may use the registries and the bridge.
      const t = Date.now();
      await Promise.all([...this.daemons].reverse().map((d) => stopDaemon(d)));
      if (process.env.CRIB_HARNESS_TRACE) log(`teardown: stop servers: ${Date.now() - t}ms`);
      await cleanUpRunDir(this.tmpDir, { runc: RUNC, bridge: cniNetworkFor(this.tmpDir).bridge, keepDir: this.keep, log });
      if (this.keep) log(`kept ${this.tmpDir}`);
    })();
    return this.teardown;
  }

  async exit(code: number, showLogs: boolean): Promise<never> {
    if (showLogs) this.printLogs();
    await this.tearDown();
    process.exit(code);
  }
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
}

async function reapAbandonedRuns(): Promise<void> {
  for (const dir of abandonedRunDirs()) {
    log(`cleaning up ${dir} left by a harness that died`);
    await cleanUpRunDir(dir, { runc: RUNC, bridge: cniNetworkFor(dir).bridge, log });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  await reapAbandonedRuns();

  const tmpDir = mkdtempSync(join("/tmp", TMP_PREFIX));
  writeFileSync(join(tmpDir, HARNESS_PID_FILE), String(process.pid));
  const r = new Run(tmpDir, args.keep);

  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (r.child && r.child.exitCode === null && r.child.signalCode === null && !stopping) {
      // The child usually got the same Ctrl-C; the harness waits for it to finish.
      stopping = true;
      r.child.kill(sig);
      setTimeout(() => r.child?.kill("SIGKILL"), 10_000).unref();
      return;
    }
    void r.exit(128 + (constants.signals[sig] ?? 1), false);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("uncaughtException", (err) => {
    log(`internal error: ${err.stack ?? err.message}`);
    void r.exit(1, true);
  });
  process.on("unhandledRejection", (err) => {
    log(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    void r.exit(1, true);
  });

  const t0 = performance.now();
  let infoPath: string;
  try {
    const env = await startEnvironment({ repo, tmpDir, withCri: args.withCri, track: r.track, log });
    infoPath = join(tmpDir, "harness.json");
    writeFileSync(infoPath, JSON.stringify(env.info, null, 2) + "\n");
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    log(`ready in ${secs}s (fixtures ${env.fixturesCached ? "cached" : "built"}${args.withCri ? ", with CRI containerd" : ""}): ${tmpDir}`);
  } catch (err) {
    log(`setup failed: ${(err as Error).stack ?? String(err)}`);
    return r.exit(1, true);
  }

  const [cmd, ...cmdArgs] = args.command as [string, ...string[]];
  const child = spawn(cmd, cmdArgs, { stdio: "inherit", env: { ...process.env, [HARNESS_ENV]: infoPath } });
  r.child = child;
  const code = await new Promise<number>((res) => {
    child.on("error", (err) => {
      log(`cannot run ${cmd}: ${err.message}`);
      res(127);
    });
    child.on("exit", (c, s) => res(exitCodeOf(c, s)));
  });
  return r.exit(code, code !== 0);
}

main().catch((err) => {
  log(`${(err as Error).message}`);
  process.exit(2);
});
