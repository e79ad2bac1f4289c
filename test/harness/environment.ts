// Brings up everything a test run needs inside one temp dir and describes it (HarnessInfo).
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { containerdBinDir, containerdConfig, containerdLayout, containerdLine, startContainerd } from "./containerd.js";
import { cniNetworkFor, writeCniConfig } from "./cni.js";
import {
  AUTH_REFS,
  allPlainRefs,
  buildLayout,
  findCachedFixtures,
  fixtureImages,
  fixtureKey,
  pushFixtures,
  readDigests,
  saveFixtureCache,
  type FixtureCache,
} from "./fixtures.js";
import { registryLayout, startRegistry, writeHostsDir, type StartedRegistry } from "./registry.js";
import type { Daemon } from "./proc.js";
import type { HarnessInfo } from "./env.js";

export const RUNC = "/usr/sbin/runc";

export interface EnvironmentOptions {
  repo: string;
  tmpDir: string;
  withCri: boolean;
  /** called for every server process as soon as it is spawned, so teardown can stop it */
  track: (d: Daemon) => void;
  log: (msg: string) => void;
}

export interface Environment {
  info: HarnessInfo;
  fixturesCached: boolean;
}

/** Host tools the harness runs; all come from scripts/install-deps.sh. */
const REQUIRED_TOOLS = ["docker-registry", "skopeo", "umoci", "htpasswd", "gcc", "ldd", "busybox", "runc", "umount", "ip"];

/** Fails early, naming everything missing at once, instead of on the first spawn. */
export function checkHost(binDir: string): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push("must run as root (containerd, mounts, netns)");
  const path = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  for (const tool of REQUIRED_TOOLS) {
    if (!path.some((d) => d && existsSync(join(d, tool)))) problems.push(`${tool} not found`);
  }
  for (const bin of ["containerd", "containerd-shim-runc-v2", "ctr"]) {
    if (!existsSync(join(binDir, bin))) problems.push(`${join(binDir, bin)} missing`);
  }
  if (!existsSync(RUNC)) problems.push(`${RUNC} missing`);
  if (problems.length > 0) {
    throw new Error(`host not ready (run \`make deps\`, i.e. scripts/install-deps.sh):\n  ${problems.join("\n  ")}`);
  }
}

export async function startEnvironment(o: EnvironmentOptions): Promise<Environment> {
  const line = containerdLine();
  const binDir = containerdBinDir(o.repo, line);
  checkHost(binDir);
  const hostsDir = join(o.tmpDir, "hosts");
  const scratchDir = join(o.tmpDir, "scratch");
  const netnsDir = join(o.tmpDir, "netns");
  mkdirSync(netnsDir, { recursive: true });
  mkdirSync(hostsDir, { recursive: true });
  mkdirSync(scratchDir, { recursive: true });
  const cni = writeCniConfig(join(o.tmpDir, "cni"), cniNetworkFor(o.tmpDir));

  // containerd reads the hosts dir per pull, so it may start before the registries exist.
  const cdLayout = containerdLayout(join(o.tmpDir, "containerd"));
  const containerd = startContainerd("containerd", binDir, cdLayout, containerdConfig(cdLayout, hostsDir, undefined, line), o.track);
  containerd.catch(() => {}); // awaited below; avoid an unhandled rejection meanwhile

  const cacheRoot = join(o.repo, ".cache/fixtures");
  const key = await fixtureKey(o.repo);
  let fixtures = findCachedFixtures(cacheRoot, key);
  const regLayout = registryLayout(join(o.tmpDir, "registry"));
  const authLayout = registryLayout(join(o.tmpDir, "auth-registry"));
  if (fixtures) {
    cpSync(fixtures.registryStorage, regLayout.storage, { recursive: true });
    cpSync(fixtures.authRegistryStorage, authLayout.storage, { recursive: true });
  }
  const creds = { username: `crib-${randomBytes(3).toString("hex")}`, password: randomBytes(12).toString("hex") };
  const secret = randomBytes(16).toString("hex");
  const [registry, authRegistry] = await Promise.all([
    startRegistry("registry", regLayout, secret, undefined, o.track),
    startRegistry("auth-registry", authLayout, secret, creds, o.track),
  ]);
  writeHostsDir(hostsDir, [registry.host, authRegistry.host]);

  const fixturesCached = fixtures !== undefined;
  if (!fixtures) fixtures = await buildFixtures(o, cacheRoot, key, registry, authRegistry, creds);
  const { images, digests } = fixtureImages(registry.host, authRegistry.host, fixtures.digests);
  // A copy of its own: a concurrent run with other sources may replace the cache entry.
  const pauseBinary = join(o.tmpDir, "pause");
  cpSync(fixtures.pauseBinary, pauseBinary);

  let criContainerd: HarnessInfo["criContainerd"];
  if (o.withCri) {
    const l = containerdLayout(join(o.tmpDir, "cri-containerd"));
    const cri = { sandboxImage: images.pause, cniBinDir: cni.binDir, cniConfDir: cni.confDir };
    const criBinDir = containerdBinDir(o.repo, "2");
    const started = await startContainerd("cri-containerd", criBinDir, l, containerdConfig(l, hostsDir, cri), o.track);
    criContainerd = { ...started.info, criAddress: started.info.address, sandboxImage: images.pause };
  }

  const info: HarnessInfo = {
    tmpDir: o.tmpDir,
    scratchDir,
    netnsDir,
    containerd: (await containerd).info,
    ...(criContainerd ? { criContainerd } : {}),
    registry: { host: registry.host, url: registry.url, logPath: regLayout.logPath },
    authRegistry: { host: authRegistry.host, url: authRegistry.url, logPath: authLayout.logPath, ...creds },
    hostsDir,
    cni,
    images,
    digests,
    runc: RUNC,
    pauseBinary,
  };
  return { info, fixturesCached };
}

async function buildFixtures(
  o: EnvironmentOptions,
  cacheRoot: string,
  key: string,
  registry: StartedRegistry,
  authRegistry: StartedRegistry,
  creds: { username: string; password: string },
): Promise<FixtureCache> {
  o.log(`building fixture images (cache key ${key})`);
  const work = join(o.tmpDir, "fixture-build");
  const layout = join(work, "layout");
  const pauseBinary = join(work, "pause.bin");
  mkdirSync(work, { recursive: true });
  await buildLayout(layout, work, o.repo, pauseBinary);
  await pushFixtures(layout, { host: registry.host }, { host: authRegistry.host, creds });
  const basic = Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
  const digests = {
    ...(await readDigests(registry.url, allPlainRefs())),
    ...(await readDigests(authRegistry.url, [AUTH_REFS.private], basic)),
  };
  saveFixtureCache(
    cacheRoot,
    key,
    {
      layout,
      pauseBinary,
      registryStorage: registry.layout.storage,
      authRegistryStorage: authRegistry.layout.storage,
    },
    digests,
  );
  const saved = findCachedFixtures(cacheRoot, key);
  if (!saved) throw new Error(`fixture cache ${join(cacheRoot, key)} was not written`);
  return saved;
}
