// crib's entry point: flags and config, then serve until SIGTERM/SIGINT.
import { loadConfig, parseCli, USAGE } from "./config.js";
import { createLogger } from "./log.js";
import { messageOf } from "./errors.js";
import { startCrib } from "./server/server.js";
import { runMigrateCommand } from "./migrate/check-command.js";

/** `crib <subcommand> ...`: one line each; no subcommand serves the CRI. */
const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  migrate: runMigrateCommand,
};

async function main(argv: string[]): Promise<number> {
  const sub = argv[0] !== undefined ? SUBCOMMANDS[argv[0]] : undefined;
  if (sub) return sub(argv.slice(1));
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
  const config = await loadConfig(cli);
  const logger = createLogger(config.logLevel, config.logFormat);
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
