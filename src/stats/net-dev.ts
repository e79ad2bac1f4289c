// A pod's network counters from /proc/<pid>/net/dev of a process in its network namespace
// (the pause process): procfs shows the namespace of the reading path's process, so no
// setns is needed. The kubelet reads eth0 as the default interface, as containerd reports.
import { readFile } from "node:fs/promises";

export interface InterfaceCounters {
  name: string;
  rxBytes: bigint;
  rxPackets: bigint;
  rxErrors: bigint;
  rxDropped: bigint;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  txDropped: bigint;
}

/** The interface the CNI plugins create in the pod (containerd's defaultIfName). */
export const DEFAULT_INTERFACE = "eth0";

/**
 * Parses /proc/net/dev: two header lines, then "name: rx_bytes rx_packets rx_errs rx_drop
 * rx_fifo rx_frame rx_compressed rx_multicast tx_bytes tx_packets tx_errs ...". The
 * loopback interface is left out: pod traffic never crosses it.
 */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = [];
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (name === "" || name === "lo" || f.length < 16) continue;
    const n = (i: number) => BigInt(f[i]!);
    out.push({ name, rxBytes: n(0), rxPackets: n(1), rxErrors: n(2), rxDropped: n(3), txBytes: n(8), txPackets: n(9), txErrors: n(10), txDropped: n(11) });
  }
  return out;
}

export async function readNetDev(pid: number): Promise<InterfaceCounters[]> {
  return parseNetDev(await readFile(`/proc/${pid}/net/dev`, "utf8"));
}
