// Exec starts per container on containerd 1.x, shared by ExecSync and streaming exec sessions.
/**
 * containerd 1.x shims wedge when many execs of one container start at once (seen with 100
 * on 1.6: some Tasks.Start calls never return). On 1.x at most this many exec starts per
 * container are in flight; 2.x shims take any number.
 */
const LEGACY_EXEC_STARTS = 4;
const startGates = new Map<string, { running: number; waiting: Array<() => void> }>();

export async function gateExecStart<T>(containerId: string, legacy: boolean, fn: () => Promise<T>): Promise<T> {
  if (!legacy) return fn();
  let g = startGates.get(containerId);
  if (!g) startGates.set(containerId, (g = { running: 0, waiting: [] }));
  const gate = g;
  if (gate.running >= LEGACY_EXEC_STARTS) await new Promise<void>((r) => gate.waiting.push(r));
  gate.running++;
  try {
    return await fn();
  } finally {
    gate.running--;
    const next = gate.waiting.shift();
    if (next) next();
    else if (gate.running === 0) startGates.delete(containerId);
  }
}
