import { test } from "node:test";
import assert from "node:assert/strict";
import { chainId, goImageSpec, imageUser, parseImageConfig, verboseImageInfo } from "../../src/image/image-config.js";

test("chainId follows identity.ChainID", () => {
  const d1 = "sha256:" + "1".repeat(64);
  const d2 = "sha256:" + "2".repeat(64);
  assert.equal(chainId([]), "");
  assert.equal(chainId([d1]), d1);
  // sha256 of "<d1> <d2>", computed with `printf '%s %s' d1 d2 | sha256sum`.
  assert.equal(chainId([d1, d2]), "sha256:9932074217c35353d2e03a3f5a86549f7c67bfeb0ba53e23d69f4d4c8f7958f5");
  assert.equal(chainId([d1, d2, d1]).length, 71);
});

test("imageUser: numeric users are uids, others names, group dropped", () => {
  const cases: Array<[string | undefined, { uid?: bigint; username: string }]> = [
    [undefined, { username: "" }],
    ["", { username: "" }],
    ["1234", { uid: 1234n, username: "" }],
    ["1234:1234", { uid: 1234n, username: "" }],
    ["0", { uid: 0n, username: "" }],
    ["nobody", { username: "nobody" }],
    ["nobody:nogroup", { username: "nobody" }],
    ["99999999999999999999", { username: "99999999999999999999" }],
  ];
  for (const [input, want] of cases) assert.deepEqual(imageUser(input), want, String(input));
});

test("goImageSpec writes fields in Go's order and omits empty ones", () => {
  const img = parseImageConfig(
    Buffer.from(
      JSON.stringify({
        rootfs: { diff_ids: ["sha256:x"], type: "layers" },
        config: { Cmd: ["sh"], User: "1234:1234", Env: [], Labels: {} },
        os: "linux",
        architecture: "amd64",
        created: "2024-01-01T00:00:00Z",
        history: [{ created_by: "umoci", empty_layer: false }],
      }),
    ),
    "sha256:c",
  );
  assert.equal(
    JSON.stringify(goImageSpec(img)),
    '{"created":"2024-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"User":"1234:1234","Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:x"]},"history":[{"created_by":"umoci"}]}',
  );
  assert.deepEqual(JSON.parse(verboseImageInfo("sha256:chain", img)).chainID, "sha256:chain");
  assert.deepEqual(Object.keys(JSON.parse(verboseImageInfo("sha256:chain", img))), ["chainID", "imageSpec"]);
});

test("goImageSpec keeps an empty config object, as Go writes a struct", () => {
  const img = parseImageConfig(Buffer.from('{"architecture":"arm64","os":"linux","variant":"v8","rootfs":{"type":"layers","diff_ids":[]}}'), "sha256:c");
  assert.equal(JSON.stringify(goImageSpec(img)), '{"architecture":"arm64","os":"linux","variant":"v8","config":{},"rootfs":{"type":"layers","diff_ids":[]}}');
});

test("parseImageConfig refuses what is not a JSON object", () => {
  for (const bad of ["", "[]", "null", "{"]) assert.throws(() => parseImageConfig(Buffer.from(bad), "sha256:c"), /unmarshal image config sha256:c/);
});
