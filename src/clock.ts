// Wall-clock time in nanoseconds since the epoch, as containerd's CRI keeps it
// (time.Now().UnixNano() in the status checkpoint). Date.now() has only milliseconds, so
// the high-resolution monotonic clock supplies the rest, re-anchored on the wall clock
// whenever the two drift a millisecond apart (clock steps, NTP slews).
import type { Timestamp } from "@bufbuild/protobuf/wkt";

const MS = 1_000_000n;
let wallAnchor = BigInt(Date.now()) * MS;
let monoAnchor = process.hrtime.bigint();

export function nowNs(): bigint {
  const t = wallAnchor + (process.hrtime.bigint() - monoAnchor);
  const wall = BigInt(Date.now()) * MS;
  if (t - wall >= MS || wall - t >= MS) {
    wallAnchor = wall;
    monoAnchor = process.hrtime.bigint();
    return wall;
  }
  return t;
}

/** A protobuf Timestamp (containerd's exited_at, created_at) in nanoseconds, exactly. */
export function timestampNs(ts: Timestamp | undefined): bigint | undefined {
  return ts ? ts.seconds * 1_000_000_000n + BigInt(ts.nanos) : undefined;
}
