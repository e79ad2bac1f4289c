// Registry credentials from a PullImageRequest's AuthConfig, answered to containerd's
// auth callbacks (AuthRequest on the transfer's auth stream, one per registry host that
// challenges). Follows containerd's ParseAuth: the credentials apply only to the host
// server_address names; username/password first, then identity_token, then auth.
import { AuthType } from "../gen/github.com/containerd/containerd/api/types/transfer/registry_pb.js";
import { invalidArgument } from "../errors.js";

/** The CRI AuthConfig fields (runtime.v1). */
export interface CriAuthConfig {
  username: string;
  password: string;
  auth: string;
  serverAddress: string;
  identityToken: string;
  registryToken: string;
}

export interface RegistryCredentials {
  /** Host the credentials are for; undefined means any host (no server_address). */
  host?: string;
  username: string;
  /** Password, or an identity (refresh) token when username is empty. */
  secret: string;
  /** A bearer token sent as is (registry_token). */
  bearer?: string;
}

/** Docker Hub answers under several names; credentials for one hold for all. */
const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * The host of a server_address as kubelet and docker config files write it: a URL
 * ("https://index.docker.io/v1/") or a bare host[:port][/path]. containerd needs a URL
 * scheme here and silently drops bare hosts; crib accepts both.
 */
export function serverAddressHost(serverAddress: string): string {
  const s = serverAddress.trim();
  if (s.includes("://")) {
    try {
      return new URL(s).host;
    } catch {
      throw invalidArgument(`auth server_address ${JSON.stringify(serverAddress)} is not a valid URL`);
    }
  }
  return s.split("/")[0]!;
}

export function sameRegistryHost(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || (DOCKER_HUB_HOSTS.has(x) && DOCKER_HUB_HOSTS.has(y));
}

/**
 * Validates and decodes an AuthConfig once, before the pull starts: a malformed `auth`
 * fails the request with INVALID_ARGUMENT instead of stalling containerd's callback.
 * Undefined when the config carries no credentials (anonymous pull).
 */
export function parseAuthConfig(auth: CriAuthConfig | undefined): RegistryCredentials | undefined {
  if (!auth) return undefined;
  const base = auth.serverAddress ? { host: serverAddressHost(auth.serverAddress) } : {};
  if (auth.username) return { ...base, username: auth.username, secret: auth.password };
  if (auth.identityToken) return { ...base, username: "", secret: auth.identityToken };
  if (auth.auth) {
    const decoded = Buffer.from(auth.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(auth.auth.trim())) throw invalidArgument("auth config: invalid decoded auth: want base64 of user:password");
    return { ...base, username: decoded.slice(0, colon), secret: decoded.slice(colon + 1).replace(/\0+$/, "") };
  }
  if (auth.registryToken) return { ...base, username: "", secret: "", bearer: auth.registryToken };
  return undefined;
}

export interface AuthAnswer {
  authType: AuthType;
  username: string;
  secret: string;
}

/**
 * The AuthResponse for one callback. containerd waits for an answer to every request, so
 * a host the credentials are not for gets AuthType NONE (anonymous), never silence.
 */
export function authAnswer(creds: RegistryCredentials | undefined, host: string): AuthAnswer {
  if (!creds || (creds.host !== undefined && !sameRegistryHost(creds.host, host))) return { authType: AuthType.NONE, username: "", secret: "" };
  if (creds.username) return { authType: AuthType.CREDENTIALS, username: creds.username, secret: creds.secret };
  if (creds.secret) return { authType: AuthType.REFRESH, username: "", secret: creds.secret };
  return { authType: AuthType.NONE, username: "", secret: "" };
}

/**
 * Headers for the resolver. containerd's transfer service drops HEADER auth answers, so a
 * registry_token (a bearer token to send as is) goes in the resolver's headers, for the
 * reference's own registry only.
 */
export function bearerHeaders(creds: RegistryCredentials | undefined, refDomain: string): Record<string, string> {
  if (!creds?.bearer) return {};
  if (creds.host !== undefined && !sameRegistryHost(creds.host, refDomain)) return {};
  return { Authorization: `Bearer ${creds.bearer}` };
}
