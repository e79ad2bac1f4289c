// UpdateRuntimeConfig, Status's verbose CNI info and CheckpointContainer without CRIU,
// against a crib on the harness's containerd. No pod is started on the generated network
// (it would make a bridge on the host); the CNI loader's verdict is what is checked.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { codeOfCall } from "../client/cri-client.js";
import { startTestCrib, type TestCrib } from "./helpers/start-crib.js";
import { findOnPath } from "../../src/runtime/runtime-checkpoint.js";

const TEMPLATE = `{
  "cniVersion": "1.0.0",
  "name": "crib-template-net",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cribtmpl0",
      "isGateway": true,
      "ipam": {
        "type": "host-local",
        "ranges": [{{range $i, $r := .PodCIDRRanges}}{{if $i}}, {{end}}[{"subnet": "{{$r}}"}]{{end}}],
        "routes": [{{range $i, $r := .Routes}}{{if $i}}, {{end}}{"dst": "{{$r}}"}{{end}}]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
`;

describe("runtime config", () => {
  let t: TestCrib;
  let confDir: string;

  before(async () => {
    const harness = (await import("../harness/env.js")).loadHarness();
    const dir = join(harness.scratchDir, `runtime-config-${process.pid}`);
    confDir = join(dir, "net.d");
    mkdirSync(dir, { recursive: true });
    const template = join(dir, "cni-template.json");
    writeFileSync(template, TEMPLATE);
    t = await startTestCrib({ restrictOOMScoreAdj: true, cniConfDir: confDir, cniConfTemplate: template });
  });
  after(() => t?.stop());

  const networkReady = async () => {
    const s = await t.client.runtime.status({ verbose: true });
    return { ready: s.status!.conditions.find((c) => c.type === "NetworkReady")!.status, info: s.info };
  };

  it("renders the conf template with the pod CIDRs once no CNI config exists, then leaves it alone", async () => {
    assert.equal((await networkReady()).ready, false, "no CNI config yet");
    await t.client.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: "10.99.0.0/24,fd99::/64" } } });
    const file = join(confDir, "10-crib-net.conflist");
    const conf = JSON.parse(readFileSync(file, "utf8")) as { plugins: { ipam?: { ranges: unknown; routes: unknown } }[] };
    assert.deepEqual(conf.plugins[0]!.ipam!.ranges, [[{ subnet: "10.99.0.0/24" }], [{ subnet: "fd99::/64" }]]);
    assert.deepEqual(conf.plugins[0]!.ipam!.routes, [{ dst: "0.0.0.0/0" }, { dst: "::/0" }]);

    const { ready, info } = await networkReady();
    assert.equal(ready, true, "the generated config loads");
    assert.equal(info["lastCNILoadStatus"], "OK");
    const cni = JSON.parse(info["cniconfig"]!) as { PluginConfDir: string; Networks: { IFName: string; Config: { Name: string } }[] };
    assert.equal(cni.PluginConfDir, confDir);
    assert.deepEqual(cni.Networks.map((n) => [n.IFName, n.Config.Name]), [["lo", "cni-loopback"], ["eth0", "crib-template-net"]]);
    assert.equal(JSON.parse(info["config"]!).cniConfTemplate, t.config.cniConfTemplate);

    // A config is loaded now: a later CIDR does not rewrite it (containerd's rule).
    const before = readFileSync(file, "utf8");
    await t.client.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: "10.98.0.0/24" } } });
    assert.equal(readFileSync(file, "utf8"), before);
  });

  it("no pod CIDR is a no-op; a malformed one is INVALID_ARGUMENT", async () => {
    await t.client.runtime.updateRuntimeConfig({ runtimeConfig: {} });
    assert.equal(await codeOfCall(t.client.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: "10.0.0.0/99" } } })), Code.INVALID_ARGUMENT);
  });

  it("CheckpointContainer without CRIU: UNIMPLEMENTED, saying CRIU is missing", async (ctx) => {
    if (await findOnPath("criu")) {
      ctx.diagnostic("criu is installed here: the UNIMPLEMENTED path cannot be observed");
      assert.equal(await codeOfCall(t.client.runtime.checkpointContainer({ containerId: "no-such", location: "/tmp/x.tar" })), Code.NOT_FOUND);
      return;
    }
    try {
      await t.client.runtime.checkpointContainer({ containerId: "anything", location: "/tmp/checkpoint.tar" });
      assert.fail("CheckpointContainer succeeded without CRIU");
    } catch (e) {
      const err = e as { code: number; details: string };
      assert.equal(err.code, Code.UNIMPLEMENTED);
      assert.match(err.details, /CRIU.*not installed.*criu/);
    }
    assert.equal(existsSync("/tmp/checkpoint.tar"), false);
  });
});
