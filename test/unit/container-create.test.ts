import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code } from "../../src/errors.js";
import { ContainerConfigSchema, type ContainerConfig, type Signal } from "../../src/gen/runtime/v1/api_pb.js";
import { composeLogPath, validateContainerConfig } from "../../src/container/container-create.js";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code: number }).code;
  }
  return Code.OK;
};

test("composeLogPath joins log_path under the pod's log directory and refuses escapes", () => {
  const ok: [string, string, string][] = [
    ["/var/log/pods/ns_pod_uid", "app/0.log", "/var/log/pods/ns_pod_uid/app/0.log"],
    ["/var/log/pods/x", "./app/../app/1.log", "/var/log/pods/x/app/1.log"],
    ["/var/log/pods/x", "/app/0.log", "/var/log/pods/x/app/0.log"], // joined, as filepath.Join does
    ["", "app/0.log", ""],
    ["/var/log/pods/x", "", ""],
  ];
  for (const [dir, path, want] of ok) assert.equal(composeLogPath(dir, path), want, `${dir} + ${path}`);
  for (const bad of ["../escape.log", "app/../../escape.log", "../../../../etc/passwd", "..", "."]) {
    assert.equal(codeOf(() => composeLogPath("/var/log/pods/x", bad)), Code.INVALID_ARGUMENT, bad);
  }
});

test("validateContainerConfig: metadata, image, stop signal and mounts", () => {
  const good = { metadata: { name: "app" }, image: { image: "busybox" } };
  const table: [string, Parameters<typeof create<typeof ContainerConfigSchema>>[1] | undefined, number][] = [
    ["valid", good, Code.OK],
    ["no config", undefined, Code.INVALID_ARGUMENT],
    ["no metadata", { image: { image: "busybox" } }, Code.INVALID_ARGUMENT],
    ["empty name", { metadata: { name: "" }, image: { image: "busybox" } }, Code.INVALID_ARGUMENT],
    ["no image", { metadata: { name: "app" } }, Code.INVALID_ARGUMENT],
    ["unknown stop signal", { ...good, stopSignal: 999 as Signal }, Code.INVALID_ARGUMENT],
    ["relative mount path", { ...good, mounts: [{ containerPath: "data", hostPath: "/tmp" }] }, Code.INVALID_ARGUMENT],
    ["mount without host path", { ...good, mounts: [{ containerPath: "/data", hostPath: "" }] }, Code.INVALID_ARGUMENT],
    ["good mount", { ...good, mounts: [{ containerPath: "/data", hostPath: "/tmp" }] }, Code.OK],
  ];
  for (const [what, init, want] of table) {
    const config: ContainerConfig | undefined = init ? create(ContainerConfigSchema, init) : undefined;
    assert.equal(codeOf(() => validateContainerConfig(config)), want, what);
  }
});
