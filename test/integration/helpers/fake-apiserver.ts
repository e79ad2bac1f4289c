// Just enough of a Kubernetes API server for real kubectl to exec, attach and port-forward
// through crib: discovery, one Running pod, and the pod's exec/attach/portforward
// subresources, which it turns into crib's Exec/Attach/PortForward RPCs and then proxies
// byte for byte to the streaming URL they return, the way kubelet proxies to a CRI
// streaming server. Whatever transport kubectl picks (WebSocket v5, SPDY, SPDY tunnelled in
// WebSocket) reaches crib unchanged.
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { CriClient } from "../../client/cri-client.js";

export interface FakeApiServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The upgrade requests kubectl made: "<method> <subresource> <Upgrade> <protocols>". */
  upgrades: string[];
  close(): Promise<void>;
}

export interface FakePod {
  name: string;
  namespace: string;
  podSandboxId: string;
  /** Container name → crib container id. */
  containers: Record<string, string>;
}

const RESOURCES = [
  { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get", "list"], shortNames: ["po"] },
  { name: "pods/exec", singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"] },
  { name: "pods/attach", singularName: "", namespaced: true, kind: "PodAttachOptions", verbs: ["create", "get"] },
  { name: "pods/portforward", singularName: "", namespaced: true, kind: "PodPortForwardOptions", verbs: ["create", "get"] },
];

function podObject(pod: FakePod) {
  const names = Object.keys(pod.containers);
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name: pod.name, namespace: pod.namespace, uid: pod.podSandboxId },
    spec: { containers: names.map((name) => ({ name, image: "busybox", stdin: true, stdinOnce: true })) },
    status: { phase: "Running", containerStatuses: names.map((name) => ({ name, ready: true, state: { running: {} } })) },
  };
}

/** The CRI URL for a subresource request; throws for anything else. */
async function streamingUrl(cri: CriClient, pod: FakePod, url: URL): Promise<string> {
  const flag = (k: string) => ["true", "1"].includes(url.searchParams.get(k) ?? "");
  const subresource = url.pathname.split("/").pop();
  const containerId = pod.containers[url.searchParams.get("container") ?? Object.keys(pod.containers)[0]!];
  const stdio = { stdin: flag("stdin"), stdout: flag("stdout"), stderr: flag("stderr"), tty: flag("tty") };
  if (subresource === "exec" && containerId) return (await cri.runtime.exec({ containerId, cmd: url.searchParams.getAll("command"), ...stdio })).url;
  if (subresource === "attach" && containerId) return (await cri.runtime.attach({ containerId, ...stdio })).url;
  if (subresource === "portforward") return (await cri.runtime.portForward({ podSandboxId: pod.podSandboxId, port: url.searchParams.getAll("ports").map(Number) })).url;
  throw new Error(`unsupported: ${url.pathname}`);
}

/** Replays the upgrade request on the streaming URL and joins the two connections. */
function proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: URL): net.Socket | undefined {
  if (socket.destroyed) return undefined; // kubectl gave up while the RPC ran
  const upstream = net.connect(Number(target.port), target.hostname, () => {
    const lines = [`${req.method} ${target.pathname} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on("error", () => socket.destroy());
  socket.on("error", () => upstream.destroy());
  socket.on("close", () => upstream.destroy());
  return upstream;
}

export async function startFakeApiServer(cri: CriClient, pod: FakePod): Promise<FakeApiServer> {
  const upgrades: string[] = [];
  const open = new Set<Duplex>();
  const track = (s: Duplex) => {
    open.add(s);
    s.once("close", () => open.delete(s));
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const podPath = `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/api") return json(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
    if (path === "/apis") return json(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    if (path === "/api/v1") return json(res, 200, { kind: "APIResourceList", groupVersion: "v1", resources: RESOURCES });
    if (path === podPath) return json(res, 200, podObject(pod));
    json(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", code: 404, reason: "NotFound", message: `${path} not found` });
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    track(socket);
    const url = new URL(req.url ?? "/", "http://localhost");
    const protocols = req.headers["sec-websocket-protocol"] ?? req.headers["x-stream-protocol-version"];
    upgrades.push(`${req.method} ${url.pathname.split("/").pop()} ${req.headers.upgrade} ${String(protocols)}`);
    streamingUrl(cri, pod, url).then(
      (target) => {
        const upstream = proxyUpgrade(req, socket, head, new URL(target));
        if (upstream) track(upstream);
      },
      (e: Error) => socket.end(`HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(e.message)}\r\n\r\n${e.message}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    upgrades,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of open) s.destroy();
      }),
  };
}
