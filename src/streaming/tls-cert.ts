// The streaming server's TLS key pair, as containerd's CRI picks it: both files of
// x509_key_pair_streaming when given, an error when only one is, otherwise a self-signed
// certificate made at start for this run (crictl and kubelet do not verify it).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIP } from "node:net";
import { invalidArgument } from "../errors.js";
import { describeExit, runCommand } from "../io/run-command.js";

export interface TlsKeyPair {
  cert: Buffer;
  key: Buffer;
}

export async function streamingTlsKeyPair(certFile: string, keyFile: string, address: string): Promise<TlsKeyPair> {
  if (certFile !== "" && keyFile !== "") return { cert: await readFile(certFile), key: await readFile(keyFile) };
  if (certFile !== "" || keyFile !== "") throw invalidArgument("must set both tls_cert_file and tls_key_file");
  return selfSignedKeyPair(address);
}

async function selfSignedKeyPair(address: string): Promise<TlsKeyPair> {
  const dir = await mkdtemp(join(tmpdir(), "crib-tls-"));
  try {
    const san = ["DNS:localhost", "IP:127.0.0.1"];
    if (isIP(address) && address !== "127.0.0.1") san.push(`IP:${address}`);
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    const r = await runCommand(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "365",
        "-subj", "/CN=crib-streaming", "-addext", `subjectAltName=${san.join(",")}`, "-keyout", keyPath, "-out", certPath],
      { timeoutMs: 30_000 },
    );
    if (r.code !== 0) throw new Error(`generating the streaming TLS certificate: ${describeExit(r)}: ${r.stderr.trim()}`);
    return { cert: await readFile(certPath), key: await readFile(keyPath) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
