// The CRI unix socket: a stale socket file is replaced, a live one (another crib or CRI
// server answering) is refused, and the new socket is made mode 0660.
import { connect } from "node:net";
import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { failedPrecondition } from "../errors.js";

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Refuses a socket path another server answers on; changes nothing. */
export async function refuseLiveSocket(path: string): Promise<void> {
  if (await answers(path)) throw failedPrecondition(`another server is already serving ${path}`);
}

export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  let exists = true;
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw failedPrecondition(`${path} exists and is not a socket`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") exists = false;
    else throw e;
  }
  if (!exists) return;
  if (await answers(path)) throw failedPrecondition(`another server is already serving ${path}`);
  await unlink(path);
}

export async function restrictSocket(path: string): Promise<void> {
  await chmod(path, 0o660);
}
