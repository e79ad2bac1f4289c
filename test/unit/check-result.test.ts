import { test } from "node:test";
import assert from "node:assert/strict";
import { checkExitCode, fail, formatCheckLine, ok, warn } from "../../src/check/check-result.js";

test("crib check fails only on a fail line; warnings leave the host fit", () => {
  assert.equal(checkExitCode([ok("containerd", "x"), warn("criu", "not installed")]), 0);
  assert.equal(checkExitCode([ok("containerd", "x"), fail("cni config", "none")]), 1);
  assert.equal(checkExitCode([]), 0);
});

test("one aligned line per check", () => {
  assert.equal(formatCheckLine(ok("runc", "1.1.5")), "ok    runc            1.1.5");
  assert.equal(formatCheckLine(fail("containerd", "not reachable")), "fail  containerd      not reachable");
});
