// The long-lived helper shell: frames parsed across chunk boundaries, arguments reach the
// command byte for byte, exit status and output come back, a timeout kills the helper and
// the next call starts a new one, a helper that dies fails its calls and is replaced.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { helperCommandLine, parseHelperFrames, runHelped, shellQuote, stopCommandHelper } from "../../src/io/command-helper.js";

after(() => stopCommandHelper());

test("parseHelperFrames splits complete frames and keeps the rest, counting bytes", () => {
  const body = "é\nx";
  const bytes = Buffer.byteLength(body);
  const all = Buffer.from(`1 0 0\n2 3 ${bytes}\n${body}3 0 2\nab`);
  const cut = all.length - 3;
  const first = parseHelperFrames(all.subarray(0, cut));
  assert.deepEqual(first.frames, [
    { id: 1, status: 0, output: "" },
    { id: 2, status: 3, output: body },
  ]);
  const second = parseHelperFrames(Buffer.concat([first.rest, all.subarray(cut)]));
  assert.deepEqual(second.frames, [{ id: 3, status: 0, output: "ab" }]);
  assert.equal(second.rest.length, 0);
  assert.throws(() => parseHelperFrames(Buffer.from("garbage\n")), /bad frame header/);
});

test("shellQuote and helperCommandLine", () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(helperCommandLine("mount", ["-o", "a b"]), `'mount' '-o' 'a b'`);
  assert.equal(helperCommandLine("umount", ["a\nb"]), undefined);
});

test("arguments reach the command unchanged; status and output come back", async () => {
  const weird = [`a b`, `it's`, `$HOME`, "`id`", `;rm -rf /x`, `"q"`, `\\n`, `*`, `é`, ""];
  const r = await runHelped("printf", ["%s|", ...weird]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, weird.map((w) => `${w}|`).join(""));
  const f = await runHelped("sh", ["-c", "echo out; echo err >&2; exit 3"]);
  assert.equal(f.code, 3);
  assert.equal(f.stderr, "out\nerr");
  const missing = await runHelped("/nonexistent/binary", []);
  assert.equal(missing.code, 127);
  // A newline cannot go on the helper's line: runCommand runs it instead.
  const nl = await runHelped("printf", ["%s", "a\nb"]);
  assert.equal(nl.code, 0);
  assert.equal(nl.stdout, "a\nb");
});

test("concurrent calls each get their own answer", async () => {
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => runHelped("echo", [String(i)])));
  assert.deepEqual(
    rs.map((r) => r.stderr),
    rs.map((_, i) => String(i)),
  );
});

test("a timeout kills the helper: that call reports timedOut, calls behind it fail, the next call works", async () => {
  const started = Date.now();
  const slow = runHelped("sleep", ["5"], { timeoutMs: 300 });
  const behind = runHelped("echo", ["behind"], { timeoutMs: 5000 });
  const r = await slow;
  assert.equal(r.timedOut, true);
  assert.ok(Date.now() - started < 3000, "the timed-out sleep was killed");
  await assert.rejects(behind, /another command timed out/);
  const next = await runHelped("echo", ["again"]);
  assert.equal(next.stderr, "again");
});

test("a helper that dies fails its call and is replaced", async () => {
  // kill 0 signals the helper's whole process group, the helper shell included.
  await assert.rejects(runHelped("sh", ["-c", "kill -9 0"], { timeoutMs: 5000 }), /command helper exited/);
  const next = await runHelped("echo", ["alive"]);
  assert.equal(next.code, 0);
  assert.equal(next.stderr, "alive");
});
