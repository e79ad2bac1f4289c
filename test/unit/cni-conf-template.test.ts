// The CNI config template UpdateRuntimeConfig renders: containerd's documented template
// shapes, routes per address family, and refusal of what crib does not render.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cniTemplateData, renderCniTemplate } from "../../src/network/cni-conf-template.js";

/** The template containerd's docs ship (docs/cri/config.md), ranges and routes form. */
const CONTAINERD_TEMPLATE = `{
  "name": "containerd-net",
  "cniVersion": "1.0.0",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "promiscMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [
          {{- range $i, $range := .PodCIDRRanges}}{{if $i}}, {{end}}
          [{"subnet": "{{$range}}"}]
          {{- end}}
        ],
        "routes": [
          {{- range $i, $route := .Routes}}{{if $i}}, {{end}}
          {"dst": "{{$route}}"}
          {{- end}}
        ]
      }
    },
    { "type": "portmap", "capabilities": {"portMappings": true} }
  ]
}`;

describe("cniTemplateData", () => {
  test("dual stack: both ranges and a default route per family", () => {
    assert.deepEqual(cniTemplateData("10.244.1.0/24, fd00:10:244:1::/64"), {
      PodCIDR: "10.244.1.0/24",
      PodCIDRRanges: ["10.244.1.0/24", "fd00:10:244:1::/64"],
      Routes: ["0.0.0.0/0", "::/0"],
    });
    assert.deepEqual(cniTemplateData("10.0.0.0/16,10.1.0.0/16").Routes, ["0.0.0.0/0"]);
  });
  for (const bad of ["", "10.0.0.0", "10.0.0.300/24", "10.0.0.0/33", "nonsense/8"]) {
    test(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => cniTemplateData(bad)));
  }
});

describe("renderCniTemplate", () => {
  test("containerd's documented template renders to the JSON it means", () => {
    const out = JSON.parse(renderCniTemplate(CONTAINERD_TEMPLATE, cniTemplateData("10.244.1.0/24,fd00::/64"))) as {
      plugins: { ipam?: { ranges: { subnet: string }[][]; routes: { dst: string }[] } }[];
    };
    assert.deepEqual(out.plugins[0]!.ipam!.ranges, [[{ subnet: "10.244.1.0/24" }], [{ subnet: "fd00::/64" }]]);
    assert.deepEqual(out.plugins[0]!.ipam!.routes, [{ dst: "0.0.0.0/0" }, { dst: "::/0" }]);
  });

  const data = cniTemplateData("10.1.0.0/24");
  const cases: { name: string; tpl: string; want: string }[] = [
    { name: "a field", tpl: `"subnet": "{{.PodCIDR}}"`, want: `"subnet": "10.1.0.0/24"` },
    { name: "range with dot", tpl: `{{range .Routes}}<{{.}}>{{end}}`, want: `<0.0.0.0/0>` },
    { name: "range with one variable", tpl: `{{range $r := .PodCIDRRanges}}[{{$r}}]{{end}}`, want: `[10.1.0.0/24]` },
    { name: "range else on empty", tpl: `{{range .Routes}}x{{else}}none{{end}}`, want: `x` },
    { name: "if/else", tpl: `{{if .PodCIDR}}yes{{else}}no{{end}}`, want: `yes` },
    { name: "trims", tpl: `a  {{- .PodCIDR -}}  b`, want: `a10.1.0.0/24b` },
    { name: "comment", tpl: `a{{/* note */}}b`, want: `ab` },
    { name: "root variable inside range", tpl: `{{range .Routes}}{{$.PodCIDR}}{{end}}`, want: `10.1.0.0/24` },
  ];
  for (const c of cases) test(c.name, () => assert.equal(renderCniTemplate(c.tpl, data), c.want));

  const refused: { name: string; tpl: string; error: RegExp }[] = [
    { name: "unknown field", tpl: `{{.Subnet}}`, error: /can't evaluate field Subnet/ },
    { name: "functions", tpl: `{{printf "%s" .PodCIDR}}`, error: /unsupported action/ },
    { name: "missing end", tpl: `{{range .Routes}}x`, error: /missing \{\{end\}\}/ },
    { name: "unclosed action", tpl: `{{.PodCIDR`, error: /unclosed action/ },
    { name: "printing a list", tpl: `{{.Routes}}`, error: /not a single value/ },
  ];
  for (const c of refused) test(`refuses ${c.name}`, () => assert.throws(() => renderCniTemplate(c.tpl, data), c.error));
});
