// `crib migrate check`: what crib would adopt from this containerd and what would not
// carry over, with the flags to use. Read-only: nothing is created, changed or removed,
// neither in containerd nor on disk. Exit status 0 when everything would carry over and
// crib could start; 1 when something would not; 2 for a usage error.
import { parseArgs } from "node:util";
import { loadConfig, parseCli } from "../config.js";
import { Containerd } from "../containerd/client.js";
import { detectCapabilities } from "../containerd/capabilities.js";
import { messageOf, unavailable } from "../errors.js";
import { assessAdoption, formatReport } from "./adoption.js";
import { takeInventory } from "./inventory.js";

export const MIGRATE_USAGE = `Usage: crib migrate check [flags]

Lists the pods and containers containerd holds in crib's namespace (containerd's CRI
records), which crib would adopt with all their state and what would not carry over
(exit codes and times, a pod's hostname/hosts/resolv.conf and shm), and the flags that
start crib on containerd's CRI dirs. Read-only. Exit status 0: everything carries over;
1: something would not (or containerd's own CRI is still loaded); 2: usage error.

Flags: crib's own (--config, --containerd-address, --namespace, --root-dir, --state-dir,
as crib would be started), and:
  --containerd-root DIR    containerd's root (default: from containerd, else /var/lib/containerd)
  --containerd-state DIR   containerd's state (default: from the containers' /dev/shm mounts,
                           else /run/containerd)
`;

function splitOwnFlags(argv: string[]): { root?: string; state?: string; rest: string[] } {
  const { values, tokens } = parseArgs({
    args: argv,
    options: { "containerd-root": { type: "string" }, "containerd-state": { type: "string" } },
    strict: false,
    tokens: true,
  });
  const own = new Set<number>();
  for (const t of tokens) {
    if (t.kind === "option" && (t.name === "containerd-root" || t.name === "containerd-state")) {
      own.add(t.index);
      if (!t.inlineValue) own.add(t.index + 1);
    }
  }
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const r: { root?: string; state?: string; rest: string[] } = { rest: argv.filter((_, i) => !own.has(i)) };
  const root = str(values["containerd-root"]);
  const state = str(values["containerd-state"]);
  if (root) r.root = root;
  if (state) r.state = state;
  return r;
}

export async function runMigrateCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (argv[0] !== "check" || argv.includes("--help") || argv.includes("-h")) {
    (argv[0] === "check" ? out : process.stderr).write(MIGRATE_USAGE);
    return argv[0] === "check" ? 0 : 2;
  }
  let own;
  let cli;
  try {
    own = splitOwnFlags(argv.slice(1));
    cli = parseCli(own.rest);
  } catch (e) {
    process.stderr.write(`crib migrate check: ${messageOf(e)}\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  const config = await loadConfig(cli);
  const cd = new Containerd({ address: config.containerdAddress, namespace: config.namespace, defaultTimeoutMs: config.containerdTimeoutMs });
  try {
    await cd.waitReady(10_000).catch((e: unknown) => {
      throw unavailable(`containerd is not reachable at ${config.containerdAddress}: ${messageOf(e)}`);
    });
    const caps = await detectCapabilities(cd);
    const inv = await takeInventory(cd, {
      crib: { root: config.rootDir, state: config.stateDir },
      ...(own.root ? { containerdRoot: own.root } : {}),
      ...(own.state ? { containerdState: own.state } : {}),
    });
    const a = assessAdoption(inv);
    out.write(formatReport(inv, a, { containerdAddress: config.containerdAddress, containerdVersion: caps.version, criPluginLoaded: caps.criPluginLoaded }));
    return a.losses.length === 0 && inv.unreadable.length === 0 && !caps.criPluginLoaded ? 0 : 1;
  } finally {
    cd.close();
  }
}
