// A registry (OCI distribution v2) client for the client-side pull: manifests and blobs of
// one repository, tried on each endpoint of registry-hosts.ts in turn, with the token
// (Bearer) and Basic challenges containerd's docker authorizer answers, and redirects
// followed (blob stores often answer elsewhere). No containerd knowledge.
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Code, codeOf, CriError } from "../errors.js";
import { sameRegistryHost, type RegistryCredentials } from "./registry-auth.js";
import type { RegistryEndpoint } from "./registry-hosts.js";

export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

const MAX_REDIRECTS = 5;
const MAX_MANIFEST_BYTES = 4 << 20;

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Pure: `Bearer realm="...",service="...",scope="..."` (one challenge; the first wins). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? "";
  return { scheme: m[1]!.toLowerCase(), params };
}

function statusError(status: number, what: string): CriError {
  const text = `${what}: unexpected status ${status}${http.STATUS_CODES[status] ? ` ${http.STATUS_CODES[status]}` : ""}`;
  if (status === 401) return new CriError(Code.UNAUTHENTICATED, text);
  if (status === 403) return new CriError(Code.PERMISSION_DENIED, text);
  if (status === 404) return new CriError(Code.NOT_FOUND, text);
  if (status === 429 || status >= 500) return new CriError(Code.UNAVAILABLE, text);
  return new CriError(Code.UNKNOWN, text);
}

/** Node's socket errors in the words of Go's net package, which pull-errors.ts and users know. */
function goNetError(e: NodeJS.ErrnoException, host: string): string {
  switch (e.code) {
    case "ECONNREFUSED":
      return `dial tcp ${host}: connect: connection refused`;
    case "ENOTFOUND":
      return `dial tcp: lookup ${host}: no such host`;
    case "ETIMEDOUT":
      return `dial tcp ${host}: i/o timeout`;
    case "ECONNRESET":
      return `read tcp ${host}: connection reset by peer`;
    case "EHOSTUNREACH":
      return `dial tcp ${host}: connect: no route to host`;
    case "ENETUNREACH":
      return `dial tcp ${host}: connect: network is unreachable`;
    default:
      return e.message;
  }
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

function request(url: string, method: string, headers: Record<string, string>, skipVerify: boolean, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.request(u, { method, headers, signal, ...(u.protocol === "https:" ? { rejectUnauthorized: !skipVerify } : {}) }, (res) =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
    );
    req.on("error", (e) => reject(new CriError(signal.aborted ? Code.CANCELLED : Code.UNAVAILABLE, `${method} ${url}: ${goNetError(e, u.host)}`, { cause: e })));
    req.end();
  });
}

async function readAll(body: http.IncomingMessage, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      body.destroy();
      throw new CriError(Code.FAILED_PRECONDITION, `${what} is larger than ${max} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  body: Buffer;
}

/** One repository on one registry host (its endpoints in order), with cached authorization. */
export class RegistryRepository {
  /** Authorization header per endpoint origin, once a challenge was answered. */
  private readonly auth = new Map<string, string>();

  constructor(
    private readonly host: string,
    private readonly repo: string,
    private readonly endpoints: readonly RegistryEndpoint[],
    private readonly credentials: RegistryCredentials | undefined,
    private readonly signal: AbortSignal,
  ) {}

  /** The manifest or index a tag or digest names, checked against its digest. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const res = await this.onEndpoints("resolve", `manifests/${reference}`, { Accept: MANIFEST_ACCEPT }).catch((e: unknown) => {
      // containerd's resolver words it so: "<host>/<repo>:<tag>: not found".
      if (codeOf(e) !== Code.NOT_FOUND) throw e;
      const sep = reference.includes(":") ? "@" : ":";
      throw new CriError(Code.NOT_FOUND, `failed to resolve reference "${this.host}/${this.repo}${sep}${reference}": ${this.host}/${this.repo}${sep}${reference}: not found`, { cause: e });
    });
    const body = await readAll(res.body, MAX_MANIFEST_BYTES, `manifest ${reference}`);
    const digest = "sha256:" + createHash("sha256").update(body).digest("hex");
    if (reference.includes(":") && reference !== digest) {
      throw new CriError(Code.FAILED_PRECONDITION, `manifest ${reference}: content has digest ${digest}`);
    }
    const header = res.headers["content-type"]?.split(";")[0]?.trim() ?? "";
    let mediaType = header;
    if (!MANIFEST_ACCEPT.includes(mediaType) || mediaType === "") {
      const declared = (JSON.parse(body.toString("utf8")) as { mediaType?: unknown }).mediaType;
      mediaType = typeof declared === "string" ? declared : header;
    }
    return { mediaType, digest, body };
  }

  /** A blob's bytes as they arrive (the caller checks the digest when it commits them). */
  async blob(digest: string): Promise<http.IncomingMessage> {
    return (await this.onEndpoints("pull", `blobs/${digest}`, {})).body;
  }

  /** Tries each endpoint with the capability; the last failure is the answer. */
  private async onEndpoints(capability: string, path: string, headers: Record<string, string>): Promise<Response> {
    let last: unknown = new CriError(Code.FAILED_PRECONDITION, `no registry endpoint of ${this.host} may ${capability}`);
    for (const ep of this.endpoints) {
      if (!ep.capabilities.includes(capability)) continue;
      try {
        return await this.get(ep, `${ep.base}/${this.repo}/${path}`, { ...ep.headers, ...headers });
      } catch (e) {
        if (this.signal.aborted) throw e;
        last = e;
      }
    }
    throw last;
  }

  private async get(ep: RegistryEndpoint, url: string, headers: Record<string, string>): Promise<Response> {
    const origin = new URL(url).origin;
    for (let attempt = 0; ; attempt++) {
      const auth = this.auth.get(origin);
      const res = await this.follow(url, auth ? { ...headers, Authorization: auth } : headers, ep.skipVerify);
      if (res.status === 401 && attempt === 0) {
        res.body.resume();
        const challenge = parseChallenge(res.headers["www-authenticate"]);
        const answer = challenge && (await this.answer(challenge, new URL(url).host, ep.skipVerify));
        if (answer) {
          this.auth.set(origin, answer);
          continue;
        }
      }
      if (res.status >= 200 && res.status < 300) return res;
      res.body.resume();
      throw statusError(res.status, `GET ${url}`);
    }
  }

  /** GET with redirects; Authorization goes only to the origin it was made for. */
  private async follow(url: string, headers: Record<string, string>, skipVerify: boolean): Promise<Response> {
    let current = url;
    let h = headers;
    for (let i = 0; i <= MAX_REDIRECTS; i++) {
      const res = await request(current, "GET", h, skipVerify, this.signal);
      const location = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
      res.body.resume();
      const next = new URL(location, current);
      if (next.origin !== new URL(current).origin) {
        const { Authorization: _dropped, ...rest } = h;
        h = rest;
      }
      current = next.toString();
    }
    throw new CriError(Code.UNAVAILABLE, `GET ${url}: more than ${MAX_REDIRECTS} redirects`);
  }

  private credentialsFor(endpointHost: string): RegistryCredentials | undefined {
    const c = this.credentials;
    if (!c) return undefined;
    if (c.host === undefined || sameRegistryHost(c.host, endpointHost) || sameRegistryHost(c.host, this.host)) return c;
    return undefined;
  }

  /** The Authorization header for a challenge, or undefined when it cannot be answered. */
  private async answer(ch: Challenge, endpointHost: string, skipVerify: boolean): Promise<string | undefined> {
    const creds = this.credentialsFor(endpointHost);
    if (ch.scheme === "basic") {
      if (!creds || !creds.username) return undefined;
      return "Basic " + Buffer.from(`${creds.username}:${creds.secret}`).toString("base64");
    }
    if (ch.scheme !== "bearer") return undefined;
    if (creds?.bearer) return `Bearer ${creds.bearer}`;
    const realm = ch.params["realm"];
    if (!realm) return undefined;
    const tokenUrl = new URL(realm);
    if (ch.params["service"]) tokenUrl.searchParams.set("service", ch.params["service"]);
    tokenUrl.searchParams.set("scope", ch.params["scope"] ?? `repository:${this.repo}:pull`);
    const headers: Record<string, string> = {};
    if (creds?.username) headers["Authorization"] = "Basic " + Buffer.from(`${creds.username}:${creds.secret}`).toString("base64");
    const res = await this.follow(tokenUrl.toString(), headers, skipVerify);
    if (res.status !== 200) {
      res.body.resume();
      throw statusError(res.status, `fetch token from ${tokenUrl.origin}${tokenUrl.pathname}`);
    }
    const body = JSON.parse((await readAll(res.body, 1 << 20, "token response")).toString("utf8")) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : "";
    return token ? `Bearer ${token}` : undefined;
  }
}
