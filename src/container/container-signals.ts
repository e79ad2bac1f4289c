// Stop signals: the CRI enum (SIGRTMINPLUS1 ...), the OCI/image form ("SIGRTMIN+1",
// "TERM", "9") and Linux signal numbers, as containerd converts them
// (container_stop_signal.go and moby/sys/signal.ParseSignal).
import { invalidArgument } from "../errors.js";
import { Signal } from "../gen/runtime/v1/api_pb.js";

const LINUX_SIGNALS: Record<string, number> = {
  ABRT: 6, ALRM: 14, BUS: 7, CHLD: 17, CLD: 17, CONT: 18, FPE: 8, HUP: 1, ILL: 4, INT: 2, IO: 29, IOT: 6, KILL: 9,
  PIPE: 13, POLL: 29, PROF: 27, PWR: 30, QUIT: 3, SEGV: 11, STKFLT: 16, STOP: 19, SYS: 31, TERM: 15, TRAP: 5,
  TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, USR1: 10, USR2: 12, VTALRM: 26, WINCH: 28, XCPU: 24, XFSZ: 25,
};
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** The OCI stop signal name of a CRI signal ("" for RUNTIME_DEFAULT): SIGRTMINPLUS1 → SIGRTMIN+1. */
export function criSignalToOci(s: Signal): string {
  if (s === Signal.RUNTIME_DEFAULT) return "";
  const name = Signal[s];
  if (name === undefined) throw invalidArgument(`unknown CRI stop signal ${s}: invalid argument`);
  return name.replace("PLUS", "+").replace("MINUS", "-");
}

/** The CRI enum for an OCI stop signal name; RUNTIME_DEFAULT when it has none. */
export function ociSignalToCri(name: string): Signal {
  const key = name.replace("+", "PLUS").replace("-", "MINUS") as keyof typeof Signal;
  const v = Signal[key];
  return typeof v === "number" ? v : Signal.RUNTIME_DEFAULT;
}

/** Linux signal number of "SIGTERM", "term", "15", "SIGRTMIN+3", "RTMAX-1" (moby's ParseSignal). */
export function parseSignal(raw: string): number {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n === 0 || n > SIGRTMAX) throw invalidArgument(`invalid signal: ${raw}`);
    return n;
  }
  const name = raw.toUpperCase().replace(/^SIG/, "");
  const plain = LINUX_SIGNALS[name];
  if (plain !== undefined) return plain;
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === "MIN" ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === "+" ? 1 : -1);
    const n = base + off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw invalidArgument(`invalid signal: ${raw}`);
}
