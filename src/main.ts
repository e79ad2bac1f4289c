// crib's entry point: flags and config, then serve until SIGTERM/SIGINT.
import { loadConfig, parseCli, USAGE } from "./config.js";
import { createLogger } from "./log.js";
import { messageOf } from "./errors.js";
import { startCrib } from "./server/server.js";
import { packageInfo } from "./package-info.js";
import { useDefaultNetwork } from "./network/default-network.js";

/** `crib NAME ...`: each subcommand is a module whose run(argv) returns the exit code. */
const SUBCOMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  check: () => import("./check/check-command.js"),
  trace: () => import("./trace/print.js").then((m) => ({ run: m.traceCommand })),
  migrate: () => import("./migrate/check-command.js").then((m) => ({ run: m.runMigrateCommand })),
};

async function main(argv: string[]): Promise<number> {
  const sub = argv[0] !== undefined ? SUBCOMMANDS[argv[0]] : undefined;
  if (sub) return (await sub()).run(argv.slice(1));
  let cli;
  try {
    cli = parseCli(argv);
  } catch (e) {
    process.stderr.write(`crib: ${messageOf(e)}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.version) {
    process.stdout.write(`crib ${packageInfo().version}\n`);
    return 0;
  }
  const loaded = await loadConfig(cli);
  const logger = createLogger(loaded.logLevel, loaded.logFormat);
  const config = await useDefaultNetwork(loaded, logger);
  const crib = await startCrib(config, logger);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      logger.info("stopping", { signal: sig });
      resolve();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  await crib.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`crib: ${messageOf(e)}\n`);
    process.exit(1);
  },
);
