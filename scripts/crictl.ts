// bin/crictl: a small stand-in for cri-tools' crictl, which Debian does not package. It
// speaks the same command syntax for what the README's quick start needs, so the same lines
// work with the real crictl:
//   version | info | pull IMAGE | pods | ps [-a] | runp POD.json | create POD CTR.json POD.json
//   start CTR | logs CTR | exec [-s] CTR CMD... | stop CTR | rm CTR | stopp POD | rmp POD
// Endpoint: --runtime-endpoint / -r, else $CONTAINER_RUNTIME_ENDPOINT, else crib's default.
// Config files are read as crictl reads them: protobuf JSON with the proto field names.
import * as grpc from "@grpc/grpc-js";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { readFile } from "node:fs/promises";
import { ContainerConfigSchema, ImageService, PodSandboxConfigSchema, RuntimeService, ContainerState } from "../src/gen/runtime/v1/api_pb.js";
import { createServiceClient, type ServiceClient } from "../src/rpc/proto-service.js";
import { parseCriLogLine } from "../src/io/cri-log-format.js";

type Runtime = ServiceClient<typeof RuntimeService.method>;
type Images = ServiceClient<typeof ImageService.method>;

const USAGE = `usage: crictl [-r unix:///run/crib/crib.sock] COMMAND ...
commands: version, info, pull IMAGE, pods, ps [-a], runp POD.json, create POD CTR.json POD.json,
          start CTR, logs CTR, exec [-s] CTR CMD..., stop CTR, rm CTR, stopp POD, rmp POD
`;

async function readConfig<T extends typeof PodSandboxConfigSchema | typeof ContainerConfigSchema>(schema: T, file: string) {
  return fromJson(schema, JSON.parse(await readFile(file, "utf8")) as JsonValue, { ignoreUnknownFields: true });
}

/** Prints a CRI log file's content as `crictl logs` does (partial lines joined). */
async function printLogs(path: string): Promise<void> {
  const text = await readFile(path);
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(0x0a, start);
    if (end < 0) end = text.length;
    const rec = parseCriLogLine(text.subarray(start, end));
    const out = rec.stream === "stdout" ? process.stdout : process.stderr;
    out.write(rec.tag === "F" ? Buffer.concat([rec.content, Buffer.from("\n")]) : rec.content);
    start = end + 1;
  }
}

async function ensureImage(images: Images, image: string): Promise<void> {
  const st = await images.imageStatus({ image: { image } });
  if (!st.image) await images.pullImage({ image: { image } });
}

async function command(rt: Runtime, images: Images, cmd: string, a: string[]): Promise<number> {
  const need = (n: number) => {
    if (a.length < n) throw new Error(`${cmd}: missing arguments\n${USAGE}`);
  };
  switch (cmd) {
    case "version": {
      const v = await rt.version({});
      console.log(`Version:  ${v.version}\nRuntimeName:  ${v.runtimeName}\nRuntimeVersion:  ${v.runtimeVersion}\nRuntimeApiVersion:  ${v.runtimeApiVersion}`);
      return 0;
    }
    case "info": {
      const s = await rt.status({ verbose: false });
      console.log(JSON.stringify({ status: { conditions: s.status?.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })) } }, null, 2));
      return 0;
    }
    case "pull":
      need(1);
      console.log(`Image is up to date for ${(await images.pullImage({ image: { image: a[0]! } })).imageRef}`);
      return 0;
    case "pods":
      for (const p of (await rt.listPodSandbox({})).items) console.log(`${p.id.slice(0, 13)}  ${p.metadata?.name}  ${p.metadata?.namespace}  ${p.state === 0 ? "Ready" : "NotReady"}`);
      return 0;
    case "ps":
      for (const c of (await rt.listContainers({})).containers) {
        if (!a.includes("-a") && c.state !== ContainerState.CONTAINER_RUNNING) continue;
        console.log(`${c.id.slice(0, 13)}  ${c.image?.image}  ${c.metadata?.name}  ${ContainerState[c.state]}  ${c.podSandboxId.slice(0, 13)}`);
      }
      return 0;
    case "runp": {
      need(1);
      const config = await readConfig(PodSandboxConfigSchema, a[0]!);
      console.log((await rt.runPodSandbox({ config })).podSandboxId);
      return 0;
    }
    case "create": {
      need(3);
      const config = await readConfig(ContainerConfigSchema, a[1]!);
      const sandboxConfig = await readConfig(PodSandboxConfigSchema, a[2]!);
      await ensureImage(images, config.image?.image ?? "");
      console.log((await rt.createContainer({ podSandboxId: a[0]!, config, sandboxConfig })).containerId);
      return 0;
    }
    case "start":
      need(1);
      await rt.startContainer({ containerId: a[0]! });
      console.log(a[0]);
      return 0;
    case "logs": {
      need(1);
      const st = await rt.containerStatus({ containerId: a[0]! });
      if (!st.status?.logPath) throw new Error(`container ${a[0]} has no log path`);
      await printLogs(st.status.logPath);
      return 0;
    }
    case "exec": {
      const args = a.filter((x, i) => !(x === "-s" && i === 0));
      need(2);
      const r = await rt.execSync({ containerId: args[0]!, cmd: args.slice(1), timeout: 0n });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.exitCode;
    }
    case "stop":
      need(1);
      await rt.stopContainer({ containerId: a[0]!, timeout: 10n });
      console.log(a[0]);
      return 0;
    case "rm":
      need(1);
      await rt.removeContainer({ containerId: a[0]! });
      console.log(a[0]);
      return 0;
    case "stopp":
      need(1);
      await rt.stopPodSandbox({ podSandboxId: a[0]! });
      console.log(`Stopped sandbox ${a[0]}`);
      return 0;
    case "rmp":
      need(1);
      await rt.removePodSandbox({ podSandboxId: a[0]! });
      console.log(`Removed sandbox ${a[0]}`);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

async function main(argv: string[]): Promise<number> {
  let endpoint = process.env.CONTAINER_RUNTIME_ENDPOINT || "unix:///run/crib/crib.sock";
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === "-r" || x === "--runtime-endpoint") endpoint = argv[++i] ?? endpoint;
    else if (x.startsWith("--runtime-endpoint=")) endpoint = x.slice("--runtime-endpoint=".length);
    else rest.push(x);
  }
  const [cmd, ...args] = rest;
  if (!cmd) {
    process.stderr.write(USAGE);
    return 2;
  }
  const target = endpoint.startsWith("unix://") ? endpoint : `unix://${endpoint}`;
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 16 << 20 });
  const hooks = { defaultTimeoutMs: 300_000, metadata: () => new grpc.Metadata(), observe: () => {} };
  const rt = createServiceClient(RuntimeService, client, hooks) as Runtime;
  const images = createServiceClient(ImageService, client, hooks) as Images;
  try {
    return await command(rt, images, cmd, args);
  } finally {
    client.close();
  }
}


main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e as grpc.ServiceError;
    process.stderr.write(`crictl: ${err.details ?? err.message}\n`);
    process.exit(1);
  },
);
