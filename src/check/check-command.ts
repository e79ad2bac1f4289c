// `crib check [flags]`: the read-only doctor. Takes crib's own flags and config file, runs
// every host check, prints one line each and exits 1 when crib cannot serve pods here.
import { loadConfig, parseCli, USAGE } from "../config.js";
import { messageOf } from "../errors.js";
import { checkExitCode, formatCheckLine } from "./check-result.js";
import { runHostChecks } from "./host-checks.js";

export async function run(argv: string[]): Promise<number> {
  let cli;
  try {
    cli = parseCli(argv);
  } catch (e) {
    process.stderr.write(`crib check: ${messageOf(e)}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = await loadConfig(cli);
  const results = await runHostChecks(config);
  for (const r of results) process.stdout.write(formatCheckLine(r) + "\n");
  const code = checkExitCode(results);
  process.stdout.write(code === 0 ? "crib can serve pods on this host\n" : "crib cannot serve pods on this host: see the fail lines\n");
  return code;
}
