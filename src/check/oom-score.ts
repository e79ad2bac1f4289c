// Whether this host lets crib's processes lower oom_score_adj. containerd's CRI gives the
// pause container -998 and the kubelet asks for negative values for guaranteed pods; runc
// fails such containers when the writer lacks CAP_SYS_RESOURCE (e.g. inside an
// unprivileged container), unless restrict_oom_score_adj clamps them to crib's own value.
import { readFile, writeFile } from "node:fs/promises";

const PATH = "/proc/self/oom_score_adj";

/** Tries own value - 1 and puts the old value back (raising it never needs a capability). */
export async function canLowerOOMScoreAdj(): Promise<boolean> {
  const current = Number((await readFile(PATH, "utf8")).trim());
  if (current <= -1000) return true;
  try {
    await writeFile(PATH, String(current - 1));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return false;
    throw e;
  }
  await writeFile(PATH, String(current));
  return true;
}
