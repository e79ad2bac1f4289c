// The container's argv from the CRI command/args and the image's Entrypoint/Cmd, with the
// rules containerd inherited from Docker (customopts.WithProcessArgs):
//   - a CRI command replaces the image Entrypoint *and* Cmd (CRI args follow it);
//   - without a CRI command, CRI args replace the image Cmd and follow the Entrypoint;
//   - an Entrypoint of exactly [""] means "reset" and contributes nothing.
import { invalidArgument } from "../errors.js";
import type { ImageConfig } from "./spec-types.js";

export function containerProcessArgs(
  command: readonly string[],
  args: readonly string[],
  image: ImageConfig,
): string[] {
  let cmd = [...command];
  let rest = [...args];
  if (cmd.length === 0) {
    if (rest.length === 0) rest = [...(image.Cmd ?? [])];
    const entrypoint = image.Entrypoint ?? [];
    if (!(entrypoint.length === 1 && entrypoint[0] === "")) cmd = [...entrypoint];
  }
  if (cmd.length === 0 && rest.length === 0) throw invalidArgument("no command specified");
  return [...cmd, ...rest];
}

/** The pause container runs its image's Entrypoint + Cmd unchanged. */
export function sandboxProcessArgs(image: ImageConfig): string[] {
  const argv = [...(image.Entrypoint ?? []), ...(image.Cmd ?? [])];
  if (argv.length === 0) throw invalidArgument("invalid empty entrypoint and cmd in sandbox image config");
  return argv;
}
