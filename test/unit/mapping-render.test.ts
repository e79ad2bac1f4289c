// docs/mapping.md's renderer: ids become placeholders, concurrent calls are grouped and
// sorted, repeats collapse, and the same trace always renders the same text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyIds, docCalls, Normaliser, renderMapping } from "../mapping/render.js";
import type { TraceEntry } from "../../src/trace/print.js";
import type { RecordedCall, TraceLine } from "../../src/trace/recorder.js";

const POD = "a".repeat(64);
const CTR = "b".repeat(64);
const EXEC = "c".repeat(64);
const DIGEST = "d".repeat(64);

const call = (method: string, fields: Record<string, string>, at: number, ms: number, code = "OK"): RecordedCall => ({ method, fields, at, ms, code });
const line = (rpc: string, request: Record<string, string>, calls: RecordedCall[], code = "OK"): TraceLine => ({ rpc, request, time: "t", ms: 1, code, calls });

test("ids are named by kind and numbered per case; digests, paths and random names become placeholders", () => {
  const lines = [
    line("RunPodSandbox", {}, [call("containers.v1.Containers/Create", { id: POD, kind: "sandbox" }, 0, 1)]),
    line("ExecSync", { containerId: CTR }, [call("tasks.v1.Tasks/Exec", { containerId: CTR, execId: EXEC }, 0, 1)]),
  ];
  const n = new Normaliser(classifyIds(lines), [["/tmp/run/state", "<state-dir>"]]);
  assert.equal(n.text(`/tmp/run/state/containers/${CTR}/io/${CTR}-stdout`), "<state-dir>/containers/<container-id>/io/<container-id>-stdout");
  assert.equal(n.text(`crib-run-${POD}`), "crib-run-<pod-id>");
  assert.equal(n.text(EXEC), "<exec-id>");
  assert.equal(n.text(`sha256:${DIGEST} sha256:${"e".repeat(64)} sha256:${DIGEST}`), "sha256:<digest> sha256:<digest-2> sha256:<digest>");
  assert.equal(n.text("exec-fifos/0123456789abcdef0123-stdin"), "exec-fifos/<random>-stdin");
  assert.equal(n.text("f".repeat(64)), "<id>");
});

test("calls that overlap the previous one form a sorted concurrent group; back-to-back repeats show once", () => {
  const n = new Normaliser(new Map(), []);
  const calls = [
    call("tasks.v1.Tasks/Exec", {}, 0, 1),
    call("tasks.v1.Tasks/Wait", {}, 2.1, 50), // recorded late: it ends last
    call("tasks.v1.Tasks/Start", {}, 2, 5),
    call("tasks.v1.Tasks/Get", {}, 60, 1),
    call("tasks.v1.Tasks/Get", {}, 70, 1),
    call("tasks.v1.Tasks/DeleteProcess", {}, 80, 1, "NOT_FOUND"),
  ];
  const shuffled = [calls[1]!, calls[0]!, calls[5]!, calls[2]!, calls[4]!, calls[3]!];
  const out = docCalls(shuffled, n).map((c) => `${c.group} ${c.method.replace("tasks.v1.Tasks/", "")} ${c.code}`);
  assert.deepEqual(out, ["0 Exec OK", "1 Start OK", "1 Wait OK", "0 Get OK", "0 DeleteProcess NOT_FOUND"]);
});

test("the document: cases under their RPC, background shapes once, a mermaid diagram per case", () => {
  const entries: TraceEntry[] = [
    line("(start-up)", {}, [call("containers.v1.Containers/List", { filters: "x" }, 0, 1)]),
    { note: "StopContainer: running" },
    line("StopContainer", { containerId: CTR }, [call("tasks.v1.Tasks/Kill", { containerId: CTR, signal: "15" }, 0, 1)]),
    line("(task exit)", { containerId: CTR }, [call("tasks.v1.Tasks/Delete", { containerId: CTR }, 0, 1)]),
    line("(task exit)", { containerId: CTR }, [call("tasks.v1.Tasks/Delete", { containerId: CTR }, 0, 1)]),
  ];
  const doc = renderMapping(entries, []);
  assert.equal(renderMapping(entries, []), doc, "deterministic");
  assert.match(doc, /## StopContainer\n\n### running\n\nRequest: `containerId=<container-id>`\. Result: OK\./);
  assert.match(doc, /\| 1 \| tasks\.v1\.Tasks\/Kill \| `containerId=<container-id> signal=15` \|  \|/);
  assert.match(doc, /crib->>Tasks: Kill containerId=#lt;container-id#gt; signal=15/);
  assert.equal(doc.match(/### \(task exit\)/g)?.length, 1, "identical background lines are shown once");
  assert.match(doc, /## containerd 1\.7 and 1\.6\n\n\*\*Not generated yet\.\*\*/);
  assert.throws(() => renderMapping([{ note: "Version: " }], []), /no Version line after the note/);
});
