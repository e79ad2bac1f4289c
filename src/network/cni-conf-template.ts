// The CNI config template containerd's CRI fills in when the kubelet hands over the node's
// pod CIDR (UpdateRuntimeConfig, [cni] conf_template): a Go text/template with the fields
// PodCIDR, PodCIDRRanges and Routes. crib renders the part of the template language such
// files use: {{.Field}}, {{.}}, {{$var}}, {{$.Field}}, {{range [$i, ]$v := .Field}} / {{range .Field}},
// {{if ...}} with {{else}}, {{end}}, and the {{- -}} whitespace trims. Anything else is
// refused with the place it was found, never silently written out.

export interface CniTemplateData {
  PodCIDR: string;
  PodCIDRRanges: string[];
  Routes: string[];
}

type Value = string | string[] | number | CniTemplateData;

export class TemplateError extends Error {}

/** Routes for the pod CIDRs: a default route per address family present (containerd's getRoutes). */
export function cniTemplateData(podCidrs: string): CniTemplateData {
  const cidrs = podCidrs
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (cidrs.length === 0) throw new TemplateError("no pod CIDR given");
  let v4 = false;
  let v6 = false;
  for (const c of cidrs) {
    const family = cidrFamily(c);
    if (family === 4) v4 = true;
    else v6 = true;
  }
  const routes: string[] = [];
  if (v4) routes.push("0.0.0.0/0");
  if (v6) routes.push("::/0");
  return { PodCIDR: cidrs[0]!, PodCIDRRanges: cidrs, Routes: routes };
}

function cidrFamily(cidr: string): 4 | 6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (m) {
    const prefix = Number(m[2]);
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]!) && m[1]!.split(".").every((o) => Number(o) <= 255) && prefix <= 32) return 4;
    if (m[1]!.includes(":") && /^[0-9a-fA-F:.]+$/.test(m[1]!) && prefix <= 128) return 6;
  }
  throw new TemplateError(`invalid CIDR address: ${cidr}`);
}

// --- parsing -----------------------------------------------------------------------------

type Node =
  | { kind: "text"; text: string }
  | { kind: "print"; expr: string }
  | { kind: "range"; index?: string; elem?: string; expr: string; body: Node[]; otherwise: Node[] }
  | { kind: "if"; expr: string; then: Node[]; otherwise: Node[] };

interface Token {
  text?: string;
  action?: string;
  at: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      out.push({ text: src.slice(i), at: i });
      break;
    }
    const close = src.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateError(`unclosed action at offset ${open}`);
    let text = src.slice(i, open);
    let action = src.slice(open + 2, close);
    if (action.startsWith("- ")) {
      text = text.replace(/\s+$/, "");
      action = action.slice(1);
    }
    let next = close + 2;
    if (action.endsWith(" -")) {
      action = action.slice(0, -1);
      while (next < src.length && /\s/.test(src[next]!)) next++;
    }
    if (text) out.push({ text, at: i });
    out.push({ action: action.trim(), at: open });
    i = next;
  }
  return out;
}

function parse(tokens: Token[]): Node[] {
  let pos = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.text !== undefined) {
        nodes.push({ kind: "text", text: t.text });
        continue;
      }
      const a = t.action!;
      if (a.startsWith("/*")) continue; // a comment
      if (terminators.includes(a)) return { nodes, end: a };
      const range = /^range\s+(?:(\$\w+)\s*(?:,\s*(\$\w+)\s*)?:=\s*)?(.+)$/.exec(a);
      if (range) {
        const [, first, second, expr] = range;
        const body = block(["end", "else"]);
        const otherwise = body.end === "else" ? block(["end"]).nodes : [];
        const node: Node = { kind: "range", expr: expr!.trim(), body: body.nodes, otherwise };
        if (second) {
          node.index = first!;
          node.elem = second;
        } else if (first) node.elem = first;
        nodes.push(node);
        continue;
      }
      const cond = /^if\s+(.+)$/.exec(a);
      if (cond) {
        const then = block(["end", "else"]);
        const otherwise = then.end === "else" ? block(["end"]).nodes : [];
        nodes.push({ kind: "if", expr: cond[1]!.trim(), then: then.nodes, otherwise });
        continue;
      }
      if (/^(\.|\.[A-Za-z_]\w*|\$\w*|\$\.[A-Za-z_]\w*)$/.test(a)) {
        nodes.push({ kind: "print", expr: a });
        continue;
      }
      throw new TemplateError(`unsupported action {{${a}}} at offset ${t.at}`);
    }
    if (terminators.length > 0) throw new TemplateError(`missing {{end}}`);
    return { nodes, end: "" };
  };
  const { nodes } = block([]);
  return nodes;
}

// --- execution ---------------------------------------------------------------------------

interface Scope {
  dot: Value;
  vars: Map<string, Value>;
}

function evaluate(expr: string, s: Scope): Value {
  if (expr === ".") return s.dot;
  if (expr.startsWith("$.")) return evaluate(expr.slice(1), { dot: s.vars.get("$")!, vars: s.vars });
  if (expr.startsWith("$")) {
    if (expr === "$") return s.vars.get("$")!;
    const v = s.vars.get(expr);
    if (v === undefined) throw new TemplateError(`undefined variable ${expr}`);
    return v;
  }
  const field = /^\.([A-Za-z_]\w*)$/.exec(expr);
  if (field && typeof s.dot === "object" && !Array.isArray(s.dot)) {
    const v = (s.dot as unknown as Record<string, Value | undefined>)[field[1]!];
    if (v === undefined) throw new TemplateError(`can't evaluate field ${field[1]} (the template gets PodCIDR, PodCIDRRanges and Routes)`);
    return v;
  }
  throw new TemplateError(`can't evaluate ${expr}`);
}

const truthy = (v: Value) => (Array.isArray(v) ? v.length > 0 : typeof v === "number" ? v !== 0 : typeof v === "string" ? v !== "" : true);

function execute(nodes: Node[], s: Scope, out: string[]): void {
  for (const n of nodes) {
    if (n.kind === "text") out.push(n.text);
    else if (n.kind === "print") {
      const v = evaluate(n.expr, s);
      if (typeof v === "object") throw new TemplateError(`{{${n.expr}}} is not a single value`);
      out.push(String(v));
    } else if (n.kind === "if") {
      execute(truthy(evaluate(n.expr, s)) ? n.then : n.otherwise, s, out);
    } else {
      const list = evaluate(n.expr, s);
      if (!Array.isArray(list)) throw new TemplateError(`range over ${n.expr}, which is not a list`);
      if (list.length === 0) execute(n.otherwise, s, out);
      list.forEach((item, i) => {
        const vars = new Map(s.vars);
        if (n.index) vars.set(n.index, i);
        if (n.elem) vars.set(n.elem, item);
        execute(n.body, { dot: item, vars }, out);
      });
    }
  }
}

export function renderCniTemplate(template: string, data: CniTemplateData): string {
  const nodes = parse(tokenize(template));
  const out: string[] = [];
  execute(nodes, { dot: data, vars: new Map([["$", data]]) }, out);
  return out.join("");
}
