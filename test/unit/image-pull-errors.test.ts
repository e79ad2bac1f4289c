import { test } from "node:test";
import assert from "node:assert/strict";
import { Code, CriError, codeOf } from "../../src/errors.js";
import { pullError, pullErrorCode } from "../../src/image/pull-errors.js";

test("pullErrorCode gives registry refusals and network failures their codes", () => {
  const cases: Array<[Code, string, Code]> = [
    [Code.NOT_FOUND, "failed to resolve image: h/x:nope: not found", Code.NOT_FOUND],
    [Code.UNKNOWN, "failed to resolve image: unexpected status from HEAD request to http://h/v2/x/manifests/latest: 401 Unauthorized", Code.UNAUTHENTICATED],
    [Code.UNKNOWN, "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed", Code.UNAUTHENTICATED],
    [Code.UNKNOWN, "unexpected status from GET request to https://h/v2/x/blobs/sha256:a: 403 Forbidden", Code.PERMISSION_DENIED],
    [Code.UNKNOWN, 'failed to do request: Head "https://127.0.0.1:5057/v2/bb/manifests/latest": dial tcp 127.0.0.1:5057: connect: connection refused', Code.UNAVAILABLE],
    [Code.UNKNOWN, "dial tcp: lookup nowhere.invalid: no such host", Code.UNAVAILABLE],
    [Code.UNKNOWN, "http: server gave HTTP response to HTTPS client", Code.UNAVAILABLE],
    [Code.UNKNOWN, "something else entirely", Code.UNKNOWN],
    [Code.INVALID_ARGUMENT, "schema 1 image manifests are no longer supported: invalid argument", Code.INVALID_ARGUMENT],
    [Code.UNAVAILABLE, "containerd is down", Code.UNAVAILABLE],
    [Code.INVALID_ARGUMENT, "unable to initialize unpacker: no unpack platforms defined: invalid argument", Code.FAILED_PRECONDITION],
  ];
  for (const [code, msg, want] of cases) assert.equal(pullErrorCode(code, msg), want, msg);
});

test("pullError words the failure as containerd's CRI does", () => {
  const e = pullError("h/x:1", Object.assign(new Error("5 NOT_FOUND: x"), { code: Code.NOT_FOUND, details: "failed to resolve image: h/x:1: not found" }));
  assert.equal(codeOf(e), Code.NOT_FOUND);
  assert.equal(e.message, 'failed to pull and unpack image "h/x:1": failed to resolve image: h/x:1: not found');
  const stall = new CriError(Code.DEADLINE_EXCEEDED, "no progress");
  assert.equal(pullError("h/x:1", stall), stall);
});
