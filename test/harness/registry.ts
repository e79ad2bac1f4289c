// Local OCI registries (Debian's docker-registry 2.8) on 127.0.0.1, plain HTTP, and the
// containerd hosts dir (certs.d layout) that points containerd and crib at them.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, run, startDaemon, waitUntil, type Daemon } from "./proc.js";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export interface RegistryLayout {
  dir: string;
  storage: string;
  configPath: string;
  logPath: string;
  htpasswdPath: string;
}

export function registryLayout(dir: string): RegistryLayout {
  return {
    dir,
    storage: join(dir, "storage"),
    configPath: join(dir, "config.yml"),
    logPath: join(dir, "registry.log"),
    htpasswdPath: join(dir, "htpasswd"),
  };
}

/** YAML double-quoted scalars accept JSON string syntax, so JSON.stringify quotes safely. */
const q = (s: string): string => JSON.stringify(s);

export function registryConfig(l: RegistryLayout, port: number, secret: string, withAuth: boolean): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${q(l.storage)}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: ${q(`127.0.0.1:${port}`)}`,
    `  secret: ${q(secret)}`,
    "health:",
    "  storagedriver:",
    "    enabled: false",
  ];
  if (withAuth) {
    lines.push("auth:", "  htpasswd:", "    realm: crib-test", `    path: ${q(l.htpasswdPath)}`);
  }
  return lines.join("\n") + "\n";
}

export interface StartedRegistry {
  host: string;
  url: string;
  daemon: Daemon;
  layout: RegistryLayout;
}

/**
 * Starts a registry on a free port; a port taken between freePort() and the registry's
 * bind makes it exit, so that case is retried on another port.
 */
export async function startRegistry(
  name: string,
  l: RegistryLayout,
  secret: string,
  auth?: { username: string; password: string },
  track?: (d: Daemon) => void,
): Promise<StartedRegistry> {
  mkdirSync(l.storage, { recursive: true });
  if (auth) {
    // bcrypt is the only hash docker-registry's htpasswd backend accepts.
    const { stdout } = await run("htpasswd", ["-Bbn", auth.username, auth.password]);
    writeFileSync(l.htpasswdPath, stdout.trim() + "\n");
  }
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    writeFileSync(l.configPath, registryConfig(l, port, secret, auth !== undefined));
    const daemon = startDaemon(name, REGISTRY_BIN, ["serve", l.configPath], l.logPath, { track });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntil(
        `${name} on ${url}`,
        async () => {
          // With credentials, so the probe does not log an authentication warning.
          const headers: Record<string, string> = auth
            ? { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }
            : {};
          const res = await fetch(`${url}/v2/`, { headers });
          await res.arrayBuffer();
          return res.status === 200;
        },
        { daemon, timeoutMs: 15_000 },
      );
      return { host: `127.0.0.1:${port}`, url, daemon, layout: l };
    } catch (err) {
      lastErr = err;
      daemon.child.kill("SIGKILL");
      await daemon.exited;
    }
  }
  throw lastErr;
}

/** containerd's certs.d layout: one folder per registry host holding hosts.toml. */
export function writeHostsDir(hostsDir: string, hosts: readonly string[]): void {
  for (const host of hosts) {
    const dir = join(hostsDir, host);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "hosts.toml"), hostsToml(host));
  }
}

export function hostsToml(host: string): string {
  const url = `http://${host}`;
  return [
    `server = ${q(url)}`,
    "",
    `[host.${q(url)}]`,
    `  capabilities = ["pull", "resolve", "push"]`,
    "  skip_verify = true",
    "",
  ].join("\n");
}
