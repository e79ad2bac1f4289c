// ContainerStats written straight to protobuf wire bytes. ListContainerStats with 500
// containers spent a third of its CPU in protobuf-es's reflective create() and toBinary of
// the reply (and in collecting the garbage they leave); the stats messages are a few fixed
// shapes of numbers, written here field by field in field-number order as toBinary does
// (byte-identical: test/unit/stats-wire.test.ts). Field numbers: proto/cri/runtime/v1/api.proto.
import { WireOut } from "../rpc/wire-out.js";
import type { ContainerStatsInit } from "./cri-stats.js";

type Init<K extends keyof ContainerStatsInit> = NonNullable<ContainerStatsInit[K]>;
/** The CRI's UInt64Value ({ value }). */
type U64 = { value?: bigint } | undefined;

function u64(w: WireOut, no: number, v: U64): void {
  if (v) w.message(no, () => w.int64(1, v.value));
}

function cpu(w: WireOut, c: Init<"cpu">): void {
  w.int64(1, c.timestamp);
  u64(w, 2, c.usageCoreNanoSeconds);
  u64(w, 3, c.usageNanoCores);
}

function memory(w: WireOut, m: Init<"memory">): void {
  w.int64(1, m.timestamp);
  u64(w, 2, m.workingSetBytes);
  u64(w, 3, m.availableBytes);
  u64(w, 4, m.usageBytes);
  u64(w, 5, m.rssBytes);
  u64(w, 6, m.pageFaults);
  u64(w, 7, m.majorPageFaults);
}

function filesystem(w: WireOut, f: Init<"writableLayer">): void {
  w.int64(1, f.timestamp);
  const fsId = f.fsId;
  if (fsId) w.message(2, () => w.string(1, fsId.mountpoint));
  u64(w, 3, f.usedBytes);
  u64(w, 4, f.inodesUsed);
}

function swap(w: WireOut, s: Init<"swap">): void {
  w.int64(1, s.timestamp);
  u64(w, 2, s.swapAvailableBytes);
  u64(w, 3, s.swapUsageBytes);
}

/**
 * One ContainerStats message as field `no` of the message `w` writes: `attributes`, the
 * ContainerAttributes already encoded (they never change for a container), then the
 * sample's cpu, memory, writable layer and swap. PSI and io are not measured by crib, so
 * never written.
 */
export function writeContainerStats(w: WireOut, no: number, attributes: Uint8Array, s: Omit<ContainerStatsInit, "attributes">): void {
  const { cpu: c, memory: m, writableLayer: f, swap: sw } = s;
  w.message(no, () => {
    w.bytes(1, attributes);
    if (c) w.message(2, () => cpu(w, c));
    if (m) w.message(3, () => memory(w, m));
    if (f) w.message(4, () => filesystem(w, f));
    if (sw) w.message(5, () => swap(w, sw));
  });
}
