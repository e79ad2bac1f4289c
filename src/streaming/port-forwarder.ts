// One port-forward connection into a pod: `socat - TCP4:localhost:<port>` run inside the
// pod's network namespace (nsenter --net), its stdio joined to the client's data stream.
// What containerd's portForward does in-process (it can setns a thread; Node cannot):
// dial localhost:<port> in the pod's netns, copy both ways, and once one direction ends
// give the other a second to finish (socat -t 1). Host-network pods dial from crib's own
// namespace. A failure (nothing listening, netns gone) rejects with what socat or nsenter
// said, for the connection's error stream; other connections are not affected.
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

export interface PodNetwork {
  sandboxId: string;
  /** The pod's network namespace; "" for host-network pods. */
  netnsPath: string;
}

/** containerd's one second for the other direction once one has ended. */
const HALF_CLOSE_GRACE_SECONDS = 1;
const MAX_STDERR_BYTES = 4096;
/** socat copies 8 KiB per read by default; bigger blocks mean far fewer syscalls per MB. */
const SOCAT_BLOCK_BYTES = 128 * 1024;

export class PortForwardError extends Error {
  override name = "PortForwardError";
}

/** The command that connects stdio to localhost:port in the pod's network namespace. */
export function forwarderCommand(pod: PodNetwork, port: number): { command: string; args: string[] } {
  const socat = ["socat", "-b", String(SOCAT_BLOCK_BYTES), "-t", String(HALF_CLOSE_GRACE_SECONDS), "-", `TCP4:localhost:${port}`];
  if (pod.netnsPath === "") return { command: socat[0]!, args: socat.slice(1) };
  return { command: "nsenter", args: [`--net=${pod.netnsPath}`, ...socat] };
}

/** socat's own error lines ("... socat[12] E connect(...): Connection refused") as one message. */
export function forwarderErrorMessage(stderr: string, exit: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const errors = lines.map((l) => /\bsocat\[\d+\] [EF] (.*)$/.exec(l)?.[1] ?? l);
  return errors.length > 0 ? errors.join("; ") : exit;
}

/**
 * Runs the forwarder for one connection: `input` (the client's data) goes to the pod's port,
 * what the port answers goes to `output`, which is ended when the pod side closes.
 * Resolves when the forwarder is done; rejects with the reason it failed.
 */
export function forwardPort(pod: PodNetwork, port: number, input: Readable, output: Writable, signal: AbortSignal): Promise<void> {
  const { command, args } = forwarderCommand(pod, port);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += s.slice(0, MAX_STDERR_BYTES - stderr.length);
    });
    child.stdin.on("error", () => {}); // EPIPE once socat is gone: its exit says why
    output.on("error", () => {});
    input.pipe(child.stdin);
    child.stdout.pipe(output);
    const kill = () => child.kill("SIGKILL");
    signal.addEventListener("abort", kill, { once: true });
    // The client reset the stream: nothing more can flow either way.
    const onStreamGone = () => {
      if (!output.writableFinished) kill();
    };
    output.once("close", onStreamGone);
    child.once("error", (e) => {
      signal.removeEventListener("abort", kill);
      reject(new PortForwardError(`failed to run ${command}: ${e.message}`));
    });
    child.once("close", (code, sig) => {
      signal.removeEventListener("abort", kill);
      output.off("close", onStreamGone);
      input.unpipe(child.stdin);
      if (code === 0) return resolve();
      const exit = sig ? `killed by ${sig}` : `exit status ${code}`;
      reject(new PortForwardError(forwarderErrorMessage(stderr, exit)));
    });
  });
}
