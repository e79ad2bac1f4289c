import { test } from "node:test";
import assert from "node:assert/strict";
import { Signal } from "../../src/gen/runtime/v1/api_pb.js";
import { criSignalToOci, ociSignalToCri, parseSignal } from "../../src/container/container-signals.js";

test("CRI signal enum to OCI name and back", () => {
  const table: [Signal, string][] = [
    [Signal.RUNTIME_DEFAULT, ""],
    [Signal.SIGTERM, "SIGTERM"],
    [Signal.SIGKILL, "SIGKILL"],
    [Signal.SIGRTMINPLUS1, "SIGRTMIN+1"],
    [Signal.SIGRTMAXMINUS14, "SIGRTMAX-14"],
  ];
  for (const [cri, oci] of table) {
    assert.equal(criSignalToOci(cri), oci);
    assert.equal(ociSignalToCri(oci), cri);
  }
  assert.equal(ociSignalToCri("SIGNOPE"), Signal.RUNTIME_DEFAULT);
  assert.throws(() => criSignalToOci(999 as Signal), /unknown CRI stop signal/);
});

test("parseSignal accepts names with or without SIG, any case, numbers and RT offsets", () => {
  const table: [string, number][] = [
    ["SIGTERM", 15],
    ["TERM", 15],
    ["sigkill", 9],
    ["SIGUSR1", 10],
    ["SIGWINCH", 28],
    ["9", 9],
    ["SIGRTMIN", 34],
    ["SIGRTMIN+3", 37],
    ["SIGRTMAX-1", 63],
    ["RTMAX", 64],
  ];
  for (const [raw, n] of table) assert.equal(parseSignal(raw), n, raw);
  for (const bad of ["", "SIGNOPE", "0", "65", "SIGRTMAX+1", "SIGRTMIN-1"]) assert.throws(() => parseSignal(bad), /invalid signal/, bad);
});
