// `ctr` against a harness containerd: lets a test look at containerd's side of things
// (what crib created, pulled, left behind) without going through crib.
import { join } from "node:path";
import { run } from "./proc.js";
import type { ContainerdInfo } from "./env.js";

export async function ctr(
  cd: ContainerdInfo,
  args: readonly string[],
  opts: { namespace?: string; timeoutMs?: number } = {},
): Promise<string> {
  const ns = opts.namespace ? ["--namespace", opts.namespace] : [];
  const { stdout } = await run(join(cd.binDir, "ctr"), ["--address", cd.address, ...ns, ...args], {
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  return stdout;
}
