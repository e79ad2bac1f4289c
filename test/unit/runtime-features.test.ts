// Runtime handler features from the two facts containerd decides them by: the kernel
// release and the OCI runtime's features document.
import { test } from "node:test";
import assert from "node:assert/strict";
import { handlerFeatures, parseOciFeatures, type OciFeatures } from "../../src/common/handler-features.js";
import { runtimeHandlersInfo } from "../../src/runtime/runtime-status.js";
import { DEFAULTS } from "../../src/config.js";

/** Trimmed from `runc features` of bookworm's runc 1.1.5. */
const RUNC_1_1_FEATURES = JSON.stringify({
  ociVersionMin: "1.0.0",
  ociVersionMax: "1.0.2-dev",
  hooks: ["prestart", "createRuntime"],
  mountOptions: ["bind", "rbind", "ro", "rprivate", "rro", "rrw", "rw"],
  linux: { namespaces: ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"] },
});
/** A runtime that predates "rro" (runc 1.0). */
const RUNC_1_0_FEATURES = JSON.stringify({ ociVersionMin: "1.0.0", mountOptions: ["bind", "rbind", "ro", "rprivate", "rw"] });

test("parseOciFeatures reads mountOptions and refuses what is not a features document", () => {
  assert.deepEqual(parseOciFeatures(RUNC_1_1_FEATURES)?.mountOptions, ["bind", "rbind", "ro", "rprivate", "rro", "rrw", "rw"]);
  assert.deepEqual(parseOciFeatures("{}"), { mountOptions: [] });
  assert.deepEqual(parseOciFeatures('{"mountOptions":["rro",7,null]}'), { mountOptions: ["rro"] });
  for (const bad of ["", "not json", "[]", "null", '"rro"']) assert.equal(parseOciFeatures(bad), undefined, bad);
});

test("recursive read-only mounts need kernel 5.12+ and a runtime listing rro", () => {
  const table: [kernel: string, features: OciFeatures | undefined, rro: boolean][] = [
    ["6.18.44-fc-v1147", parseOciFeatures(RUNC_1_1_FEATURES), true],
    ["5.12.0", parseOciFeatures(RUNC_1_1_FEATURES), true],
    ["6.1.0-18-amd64", parseOciFeatures(RUNC_1_1_FEATURES), true],
    ["5.11.22", parseOciFeatures(RUNC_1_1_FEATURES), false],
    ["5.10.0-28-amd64", parseOciFeatures(RUNC_1_1_FEATURES), false],
    ["4.19.0", parseOciFeatures(RUNC_1_1_FEATURES), false],
    ["6.1.0", parseOciFeatures(RUNC_1_0_FEATURES), false],
    ["6.1.0", undefined, false], // no features document (not runc, or PluginInfo failed)
    ["6.1.0", { mountOptions: undefined }, false],
    ["garbage", parseOciFeatures(RUNC_1_1_FEATURES), false],
  ];
  for (const [kernel, features, rro] of table) {
    assert.deepEqual(handlerFeatures(kernel, features), { recursiveReadOnlyMounts: rro, userNamespaces: false }, `${kernel} ${JSON.stringify(features)}`);
  }
});

test("Status lists every handler by name and the default once more as \"\", each with its features", () => {
  const config = {
    ...DEFAULTS,
    defaultRuntimeName: "runc",
    runtimes: {
      runc: { runtimeType: "io.containerd.runc.v2", options: {}, sandboxer: "podsandbox" },
      kata: { runtimeType: "io.containerd.kata.v2", options: {}, sandboxer: "podsandbox" },
    },
  };
  const features = { runc: { recursiveReadOnlyMounts: true, userNamespaces: false } };
  const byName = Object.fromEntries(runtimeHandlersInfo(config, features).map((h) => [h.name, h.features]));
  assert.deepEqual(byName, {
    runc: { recursiveReadOnlyMounts: true, userNamespaces: false },
    "": { recursiveReadOnlyMounts: true, userNamespaces: false },
    kata: { recursiveReadOnlyMounts: false, userNamespaces: false },
  });
});
