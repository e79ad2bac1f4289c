// The process of an Exec / ExecSync (containerd's execInternal): the container's own
// process spec (user, groups, env, cwd, capabilities, AppArmor, no_new_privs, rlimits,
// oom_score_adj) with the requested argv and terminal setting.
import { invalidArgument } from "../errors.js";
import { mergeEnv } from "./env.js";
import type { OciProcess, OciSpec } from "./spec-types.js";

export function buildExecProcessSpec(containerSpec: OciSpec, cmd: readonly string[], tty: boolean): OciProcess {
  if (!containerSpec.process) throw invalidArgument("container spec has no process");
  if (cmd.length === 0) throw invalidArgument("cmd must not be empty");
  const p: OciProcess = structuredClone(containerSpec.process);
  p.terminal = tty;
  if (tty) p.env = mergeEnv(p.env ?? [], ["TERM=xterm"]);
  p.args = [...cmd];
  return p;
}
