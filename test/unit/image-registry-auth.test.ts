import { test } from "node:test";
import assert from "node:assert/strict";
import { AuthType } from "../../src/gen/github.com/containerd/containerd/api/types/transfer/registry_pb.js";
import { Code, codeOf } from "../../src/errors.js";
import { authAnswer, bearerHeaders, parseAuthConfig, serverAddressHost, type CriAuthConfig } from "../../src/image/registry-auth.js";

const none: CriAuthConfig = { username: "", password: "", auth: "", serverAddress: "", identityToken: "", registryToken: "" };
const b64 = (s: string) => Buffer.from(s).toString("base64");

test("parseAuthConfig: username/password, then identity token, then auth, then registry token", () => {
  const cases: Array<[Partial<CriAuthConfig>, ReturnType<typeof parseAuthConfig>]> = [
    [{}, undefined],
    [{ username: "u", password: "p" }, { username: "u", secret: "p" }],
    [{ username: "u", password: "p", identityToken: "t", auth: b64("x:y") }, { username: "u", secret: "p" }],
    [{ identityToken: "tok" }, { username: "", secret: "tok" }],
    [{ auth: b64("alice:s3:cret") }, { username: "alice", secret: "s3:cret" }],
    [{ auth: b64("alice:pw\0\0") }, { username: "alice", secret: "pw" }],
    [{ registryToken: "bearer-tok" }, { username: "", secret: "", bearer: "bearer-tok" }],
    [{ username: "u", password: "p", serverAddress: "https://reg.example:5000/v2/" }, { host: "reg.example:5000", username: "u", secret: "p" }],
    [{ username: "u", password: "p", serverAddress: "127.0.0.1:5000" }, { host: "127.0.0.1:5000", username: "u", secret: "p" }],
  ];
  for (const [input, want] of cases) assert.deepEqual(parseAuthConfig({ ...none, ...input }), want, JSON.stringify(input));
  assert.equal(parseAuthConfig(undefined), undefined);
});

test("a malformed auth field is INVALID_ARGUMENT before any pull starts", () => {
  for (const auth of [b64("no-colon"), "%%%not base64%%%"]) {
    assert.throws(() => parseAuthConfig({ ...none, auth }), (e: unknown) => codeOf(e) === Code.INVALID_ARGUMENT, auth);
  }
});

test("serverAddressHost accepts URLs and bare hosts", () => {
  const cases: Array<[string, string]> = [
    ["https://index.docker.io/v1/", "index.docker.io"],
    ["http://127.0.0.1:5000", "127.0.0.1:5000"],
    ["127.0.0.1:5000", "127.0.0.1:5000"],
    ["registry.example/v2", "registry.example"],
  ];
  for (const [input, want] of cases) assert.equal(serverAddressHost(input), want, input);
});

test("authAnswer answers every callback, with credentials only for their host", () => {
  const creds = parseAuthConfig({ ...none, username: "u", password: "p", serverAddress: "https://reg:5000" });
  assert.deepEqual(authAnswer(creds, "reg:5000"), { authType: AuthType.CREDENTIALS, username: "u", secret: "p" });
  assert.deepEqual(authAnswer(creds, "other:5000"), { authType: AuthType.NONE, username: "", secret: "" });
  assert.deepEqual(authAnswer(undefined, "reg:5000"), { authType: AuthType.NONE, username: "", secret: "" });
  const token = parseAuthConfig({ ...none, identityToken: "t" });
  assert.deepEqual(authAnswer(token, "any"), { authType: AuthType.REFRESH, username: "", secret: "t" });
  // Docker Hub credentials hold for the host containerd actually talks to.
  const hub = parseAuthConfig({ ...none, username: "u", password: "p", serverAddress: "https://index.docker.io/v1/" });
  assert.equal(authAnswer(hub, "registry-1.docker.io").authType, AuthType.CREDENTIALS);
});

test("bearerHeaders sends a registry token to its own registry only", () => {
  const creds = parseAuthConfig({ ...none, registryToken: "tok", serverAddress: "reg:5000" });
  assert.deepEqual(bearerHeaders(creds, "reg:5000"), { Authorization: "Bearer tok" });
  assert.deepEqual(bearerHeaders(creds, "elsewhere"), {});
  assert.deepEqual(bearerHeaders(parseAuthConfig({ ...none, username: "u", password: "p" }), "reg:5000"), {});
});
