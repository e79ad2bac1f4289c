// The pure rules of the streaming server: which requests the RPCs accept, how many streams
// an exec/attach waits for, which port-forward streams are refused and how they pair, the
// forwarder's command line and error text, and the URL host.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkStreamOptions } from "../../src/streaming/streaming-exec.js";
import { expectedStreamCount } from "../../src/streaming/spdy-remote-command.js";
import { checkPortForwardStream, forwardingErrorMessage, pairRequestId } from "../../src/streaming/port-forward-session.js";
import { forwarderCommand, forwarderErrorMessage } from "../../src/streaming/port-forwarder.js";
import { urlHost } from "../../src/streaming/server.js";

const opts = (s: string) => ({ stdin: s.includes("i"), stdout: s.includes("o"), stderr: s.includes("e"), tty: s.includes("t") });

describe("streaming request rules", () => {
  it("checks exec and attach stream options", () => {
    const cases: Array<[kind: "exec" | "attach", flags: string, error: string | undefined]> = [
      ["exec", "oe", undefined],
      ["exec", "ioe", undefined],
      ["exec", "iot", undefined],
      ["exec", "ot", undefined],
      ["exec", "it", undefined],
      ["exec", "oet", "tty and stderr cannot both be true"],
      ["exec", "", "one of stdin, stdout, or stderr must be set"],
      ["exec", "t", "one of stdin, stdout, or stderr must be set"],
      ["exec", "i", "one of stdout or stderr must be set without a tty"],
      ["attach", "i", undefined],
      ["attach", "e", undefined],
      ["attach", "et", "tty and stderr cannot both be true"],
      ["attach", "", "one of stdin, stdout, or stderr must be set"],
    ];
    for (const [kind, flags, error] of cases) assert.equal(checkStreamOptions(kind, opts(flags)), error, `${kind} ${flags}`);
  });

  it("counts the streams kubelet waits for", () => {
    const cases: Array<[protocol: string, flags: string, n: number]> = [
      ["v4.channel.k8s.io", "oe", 3],
      ["v4.channel.k8s.io", "ioe", 4],
      ["v4.channel.k8s.io", "iot", 4], // error, stdin, stdout, resize
      ["v3.channel.k8s.io", "iot", 4],
      ["v2.channel.k8s.io", "iot", 3], // no resize before v3
      ["channel.k8s.io", "o", 2],
    ];
    for (const [protocol, flags, n] of cases) assert.equal(expectedStreamCount(protocol, opts(flags)), n, `${protocol} ${flags}`);
  });

  it("refuses port-forward streams as kubelet's httpStreamReceived", () => {
    const cases: Array<[port: string | undefined, type: string | undefined, error: string | undefined]> = [
      ["80", "data", undefined],
      ["65535", "error", undefined],
      [undefined, "data", '"port" header is required'],
      ["http", "data", 'unable to parse "http" as a port'],
      ["65536", "data", 'unable to parse "65536" as a port'],
      ["-1", "data", 'unable to parse "-1" as a port'],
      ["0", "data", 'port "0" must be > 0'],
      ["80", undefined, '"streamType" header is required'],
      ["80", "stdout", 'invalid stream type "stdout"'],
    ];
    for (const [port, type, error] of cases) assert.equal(checkPortForwardStream(port, type), error, `${port} ${type}`);
  });

  it("pairs port-forward streams by requestID, else by stream id as kubelet does for old clients", () => {
    assert.equal(pairRequestId("7", "data", 9), "7");
    assert.equal(pairRequestId(undefined, "error", 5), "5");
    assert.equal(pairRequestId(undefined, "data", 7), "5");
    assert.equal(pairRequestId("", "data", 3), "1");
  });

  it("runs the forwarder in the pod's netns, or in crib's for host-network pods", () => {
    assert.deepEqual(forwarderCommand({ sandboxId: "p", netnsPath: "/var/run/netns/cni-1" }, 8080), {
      command: "nsenter",
      args: ["--net=/var/run/netns/cni-1", "socat", "-b", "131072", "-t", "1", "-", "TCP4:localhost:8080"],
    });
    assert.deepEqual(forwarderCommand({ sandboxId: "p", netnsPath: "" }, 22), { command: "socat", args: ["-b", "131072", "-t", "1", "-", "TCP4:localhost:22"] });
  });

  it("reports what socat or nsenter said", () => {
    const socat = "2025/01/02 03:04:05 socat[321] E connect(5, AF=2 127.0.0.1:81, 16): Connection refused\n";
    assert.equal(forwarderErrorMessage(socat, "exit status 1"), "connect(5, AF=2 127.0.0.1:81, 16): Connection refused");
    assert.equal(forwarderErrorMessage("nsenter: cannot open /run/netns/x: No such file or directory\n", "exit status 1"), "nsenter: cannot open /run/netns/x: No such file or directory");
    assert.equal(forwarderErrorMessage("", "killed by SIGKILL"), "killed by SIGKILL");
    assert.equal(forwardingErrorMessage("abc", 81, new Error("refused")), "error forwarding port 81 to pod abc, uid : refused");
  });

  it("puts a dialable host in the URL", () => {
    assert.equal(urlHost("127.0.0.1"), "127.0.0.1");
    assert.equal(urlHost("10.0.0.5"), "10.0.0.5");
    assert.equal(urlHost("0.0.0.0"), "127.0.0.1");
    assert.equal(urlHost(""), "127.0.0.1");
    assert.equal(urlHost("::1"), "[::1]");
  });
});
