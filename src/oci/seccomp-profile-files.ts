// Reads the Localhost seccomp profile a security context names (seccomp.WithProfile in
// containerd reads it while building the spec), so the spec builders stay pure. A missing
// or unreadable file is the client's mistake: INVALID_ARGUMENT naming the path.
import { readFile, stat } from "node:fs/promises";
import { invalidArgument, messageOf } from "../errors.js";
import { localhostSeccompPath, parseSeccompProfile, requireAbsoluteProfilePath, type SeccompContext } from "./security-profiles.js";

/** Profile contents by path, as SandboxSpecInput / ContainerSpecInput take them. */
export async function readSeccompProfiles(sc: SeccompContext, unsetProfile: string): Promise<Record<string, string>> {
  const path = localhostSeccompPath(sc, unsetProfile);
  if (path === undefined) return {};
  requireAbsoluteProfilePath(path);
  const fail = (why: string) => invalidArgument(`cannot load seccomp profile "${path}": ${why}`);
  // A FIFO or device would hold one of Node's four threadpool threads for as long as it blocks.
  const st = await stat(path).catch((e) => {
    throw fail(messageOf(e));
  });
  if (!st.isFile()) throw fail("not a regular file");
  const text = await readFile(path, "utf8").catch((e) => {
    throw fail(messageOf(e));
  });
  parseSeccompProfile(text, path); // a malformed file fails here, before the RPC makes anything
  return { [path]: text };
}
