// docs/mapping.md's renderer: ids become placeholders, concurrent calls are grouped and
// sorted, repeats collapse, and the same trace always renders the same text.
import { committedSubsection, differingCases, expectedSubsection, tableText, versionSubsection, VERSIONS_HEADING } from "../mapping/render.js";
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
  // Without recorded 1.7/1.6 cases the section says so rather than claiming "no differences".
  assert.match(doc, /## containerd 1\.7 and 1\.6\n[^]*Not recorded in this run/);
  assert.throws(() => renderMapping([{ note: "Version: " }], []), /no Version line after the note/);
});

test("other containerd versions: only cases whose calls differ, and the doc's own tables are what a 1.x run compares with", () => {
  const call = (method: string) => ({ method, fields: {}, code: "OK", group: 0 });
  const base = [
    { rpc: "PullImage", what: "new", request: {}, code: "OK", calls: [call("transfer.v1.Transfer/Transfer")] },
    { rpc: "Version", what: "", request: {}, code: "OK", calls: [] },
  ];
  const other = [
    { rpc: "PullImage", what: "new", request: {}, code: "OK", calls: [call("leases.v1.Leases/Create"), call("diff.v1.Diff/Apply")] },
    { rpc: "Version", what: "", request: {}, code: "OK", calls: [] },
  ];
  assert.deepEqual(differingCases(base, other).map((c) => c.rpc), ["PullImage"]);
  const sub = versionSubsection("1.7", differingCases(base, other)).join("\n");
  assert.match(sub, /### containerd 1\.7\n\n1 cases make other calls[^]*#### PullImage: new[^]*leases\.v1\.Leases\/Create[^]*diff\.v1\.Diff\/Apply/);
  assert.match(versionSubsection("1.6", []).join("\n"), /Every case makes the same calls as on 2\.x/);
  // A doc rendered with these 1.7 cases holds exactly the subsection a 1.7 run expects.
  const doc = ["## PullImage", "", "### new", "", "Request: (no identifying fields). Result: OK.", "", tableText(base[0]!), "", "## Version", "", "### Version", "", "Request: x.", "", "No containerd calls.", "", VERSIONS_HEADING, "", sub, ""].join("\n");
  assert.equal(committedSubsection(doc, "1.7"), expectedSubsection(doc, "1.7", other));
  assert.equal(committedSubsection(doc, "1.6"), "");
});
