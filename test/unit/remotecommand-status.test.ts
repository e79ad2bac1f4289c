import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeStatus,
  encodeStatus,
  errorStreamPayload,
  execExitDetail,
  goJsonString,
  internalErrorStatus,
  nonZeroExitStatus,
  successStatus,
} from "../../src/streaming/remotecommand/status.js";
import { StreamProtocol, supportsResize, usesStatusErrorStream } from "../../src/streaming/remotecommand/constants.js";

test("success is exactly what kubelet writes", () => {
  assert.equal(encodeStatus(successStatus()), '{"metadata":{},"status":"Success"}');
});

test("non-zero exit: Failure, NonZeroExitCode, ExitCode cause, in json.Marshal field order", () => {
  const status = nonZeroExitStatus(3, execExitDetail(["sh", "-c", "exit 3"], 3));
  assert.equal(
    encodeStatus(status),
    '{"metadata":{},"status":"Failure",' +
      '"message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",' +
      '"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
  );
});

test("internal error: what apierrors.NewInternalError marshals to", () => {
  assert.equal(
    encodeStatus(internalErrorStatus("no such process")),
    '{"metadata":{},"status":"Failure",' +
      '"message":"Internal error occurred: error executing command in container: no such process",' +
      '"reason":"InternalError","details":{"causes":[{"message":"error executing command in container: no such process"}]},"code":500}',
  );
});

test("strings are escaped the way Go's encoding/json does (HTML-safe)", () => {
  assert.equal(goJsonString('a<b>&"c"\n\u2028'), '"a\\u003cb\\u003e\\u0026\\"c\\"\\n\\u2028"');
});

test("error stream payload per protocol: JSON for v4/v5, text on failure only before", () => {
  const failure = nonZeroExitStatus(1, "boom");
  const cases: Array<[string, string, string]> = [
    [StreamProtocol.V5, encodeStatus(successStatus()), encodeStatus(failure)],
    [StreamProtocol.V4, encodeStatus(successStatus()), encodeStatus(failure)],
    [StreamProtocol.V3, "", "command terminated with non-zero exit code: boom"],
    [StreamProtocol.V2, "", "command terminated with non-zero exit code: boom"],
    [StreamProtocol.V1, "", "command terminated with non-zero exit code: boom"],
  ];
  for (const [protocol, onSuccess, onFailure] of cases) {
    assert.equal(errorStreamPayload(protocol, successStatus()).toString(), onSuccess, protocol);
    assert.equal(errorStreamPayload(protocol, failure).toString(), onFailure, protocol);
  }
});

test("decodeStatus reads back what client-go would see", () => {
  assert.deepEqual(decodeStatus(encodeStatus(successStatus())), { exitCode: 0 });
  assert.deepEqual(decodeStatus(""), { exitCode: 0 });
  assert.deepEqual(decodeStatus(encodeStatus(nonZeroExitStatus(42, "x"))), { exitCode: 42 });
  assert.deepEqual(decodeStatus(encodeStatus(internalErrorStatus("y"))), {
    error: "Internal error occurred: error executing command in container: y",
  });
});

test("protocol capabilities", () => {
  assert.deepEqual(
    [StreamProtocol.V1, StreamProtocol.V2, StreamProtocol.V3, StreamProtocol.V4, StreamProtocol.V5].map((p) => [usesStatusErrorStream(p), supportsResize(p)]),
    [[false, false], [false, false], [false, true], [true, true], [true, true]],
  );
});
