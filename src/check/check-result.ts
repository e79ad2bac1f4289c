// One line of `crib check`, and the verdict over all of them (pure).

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  /** what was checked: "containerd", "runc", "cni", ... */
  name: string;
  status: CheckStatus;
  detail: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail });
export const warn = (name: string, detail: string): CheckResult => ({ name, status: "warn", detail });
export const fail = (name: string, detail: string): CheckResult => ({ name, status: "fail", detail });

/** "ok    containerd      2.1.9 at ..." : status and name padded so the details line up. */
export function formatCheckLine(r: CheckResult): string {
  return `${r.status.padEnd(5)} ${r.name.padEnd(15)} ${r.detail}`;
}

/** Exit code: 1 when any check failed (crib cannot serve pods on this host), else 0. */
export function checkExitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === "fail") ? 1 : 0;
}
