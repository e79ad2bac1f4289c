// Fixture images: built once with umoci into an OCI layout, pushed with skopeo, and the
// resulting registry storage cached under .cache/fixtures/<key>/. A later run copies the
// cached storage into its fresh registries instead of building and pushing again.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pidAlive, run } from "./proc.js";
import { IMAGE_PATH_ENV, stageArm64Rootfs, stageBusyboxRootfs, stagePauseRootfs } from "./rootfs.js";
import type { FixtureImages, ImageDigests } from "./env.js";

/** Bump to rebuild every cached fixture (the key also hashes the sources that build them). */
export const FIXTURE_VERSION = 1;

/** What the registries hold, as "<repo>:<tag>" relative to the registry host. */
export const PLAIN_REFS = {
  busybox: "busybox:latest",
  busyboxTags: ["busybox:latest", "busybox:1.0", "busybox:1.1"],
  busyboxUser: "busybox-user:latest",
  busyboxV2: "busybox-v2:latest",
  multi: "multi:latest",
  pause: "pause:3.10",
  moving: "moving:latest",
  movingV1: "moving:v1",
  movingNext: "moving-next:latest",
} as const;
export const AUTH_REFS = { private: "private:latest" } as const;

/** OCI layout tag -> registry refs it is pushed to. */
const PLAIN_PUSHES: ReadonlyArray<{ tag: string; refs: readonly string[]; all?: boolean }> = [
  { tag: "busybox", refs: [...PLAIN_REFS.busyboxTags, PLAIN_REFS.moving, PLAIN_REFS.movingV1] },
  { tag: "busybox-user", refs: [PLAIN_REFS.busyboxUser] },
  { tag: "busybox-v2", refs: [PLAIN_REFS.busyboxV2, PLAIN_REFS.movingNext] },
  { tag: "multi", refs: [PLAIN_REFS.multi], all: true },
  { tag: "pause", refs: [PLAIN_REFS.pause] },
];
const AUTH_PUSHES = [{ tag: "busybox", refs: [AUTH_REFS.private] }];

export interface FixtureCache {
  dir: string;
  layout: string;
  registryStorage: string;
  authRegistryStorage: string;
  pauseBinary: string;
  /** keyed by "<repo>:<tag>" */
  digests: Record<string, ImageDigests>;
}

function cachePaths(dir: string): Omit<FixtureCache, "digests"> {
  return {
    dir,
    layout: join(dir, "layout"),
    registryStorage: join(dir, "registry"),
    authRegistryStorage: join(dir, "auth-registry"),
    pauseBinary: join(dir, "pause"),
  };
}

/** Changes whenever an input of the fixtures does: package versions, pause.c, this code. */
export async function fixtureKey(repo: string): Promise<string> {
  const { stdout: versions } = await run("dpkg-query", [
    "-W",
    "-f=${Package} ${Version}\n",
    "busybox",
    "libc6",
    "docker-registry",
    "skopeo",
    "umoci",
  ]);
  const h = createHash("sha256").update(`v${FIXTURE_VERSION}\n${versions}`);
  for (const f of ["pause/pause.c", "test/harness/fixtures.ts", "test/harness/rootfs.ts"]) {
    h.update(readFileSync(join(repo, f)));
  }
  return h.digest("hex").slice(0, 16);
}

export function findCachedFixtures(cacheRoot: string, key: string): FixtureCache | undefined {
  const dir = join(cacheRoot, key);
  const digestsPath = join(dir, "digests.json");
  if (!existsSync(digestsPath)) return undefined;
  const digests = JSON.parse(readFileSync(digestsPath, "utf8")) as Record<string, ImageDigests>;
  return { ...cachePaths(dir), digests };
}

const umoci = (...args: string[]) => run("umoci", args);

/** Builds every fixture image into an OCI layout (tags: see PLAIN_PUSHES). */
export async function buildLayout(layout: string, workDir: string, repo: string, pauseBinary: string): Promise<void> {
  const img = (tag: string) => `${layout}:${tag}`;
  const stage = (name: string) => join(workDir, "rootfs", name);
  await umoci("init", "--layout", layout);

  await stageBusyboxRootfs(stage("busybox"), "v1");
  await umoci("new", "--image", img("busybox"));
  await umoci("insert", "--image", img("busybox"), "--history.created_by", "crib fixture busybox", stage("busybox"), "/");
  await umoci("config", "--image", img("busybox"), "--config.env", IMAGE_PATH_ENV, "--config.cmd", "sh");

  await umoci(
    "config", "--image", img("busybox"), "--tag", "busybox-user",
    "--config.user", "1234:1234",
    "--config.workingdir", "/home/crib",
    "--config.env", IMAGE_PATH_ENV, "--config.env", "HOME=/home/crib", "--config.env", "CRIB_FIXTURE=busybox-user",
    "--config.entrypoint", "/bin/sh", "--config.entrypoint=-c",
    "--config.cmd", "id",
  );

  // v2 shares busybox's layer and adds one, like a real image update.
  mkdirSync(join(stage("v2"), "etc"), { recursive: true });
  writeFileSync(join(stage("v2"), "etc/crib-fixture"), "v2\n");
  await umoci("insert", "--image", img("busybox"), "--tag", "busybox-v2", join(stage("v2"), "etc/crib-fixture"), "/etc/crib-fixture");

  stageArm64Rootfs(stage("arm64"));
  await umoci("new", "--image", img("arm64"));
  await umoci("insert", "--image", img("arm64"), stage("arm64"), "/");
  await umoci("config", "--image", img("arm64"), "--architecture", "arm64", "--config.cmd", "/bin/true");

  await stagePauseRootfs(stage("pause"), join(repo, "pause/pause.c"), pauseBinary);
  await umoci("new", "--image", img("pause"));
  await umoci("insert", "--image", img("pause"), stage("pause"), "/");
  // Like registry.k8s.io/pause: runs as 65535 and needs no file but itself.
  await umoci("config", "--image", img("pause"), "--config.entrypoint", "/pause", "--config.user", "65535:65535");

  await umoci("gc", "--layout", layout);
  addMultiArchIndex(layout, "multi", [
    { tag: "busybox", platform: { architecture: "amd64", os: "linux" } },
    { tag: "arm64", platform: { architecture: "arm64", os: "linux", variant: "v8" } },
  ]);
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Record<string, string>;
}

const REF_NAME = "org.opencontainers.image.ref.name";

/** umoci handles single manifests only, so the index is written by hand. */
function addMultiArchIndex(
  layout: string,
  tag: string,
  members: ReadonlyArray<{ tag: string; platform: Record<string, string> }>,
): void {
  const indexPath = join(layout, "index.json");
  const top = JSON.parse(readFileSync(indexPath, "utf8")) as { manifests: Descriptor[] };
  const manifests = members.map(({ tag: t, platform }) => {
    const d = top.manifests.find((m) => m.annotations?.[REF_NAME] === t);
    if (!d) throw new Error(`layout has no tag ${t}`);
    return { mediaType: d.mediaType, digest: d.digest, size: d.size, platform };
  });
  const body = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }),
  );
  const hex = createHash("sha256").update(body).digest("hex");
  writeFileSync(join(layout, "blobs", "sha256", hex), body);
  top.manifests.push({
    mediaType: "application/vnd.oci.image.index.v1+json",
    digest: `sha256:${hex}`,
    size: body.length,
    annotations: { [REF_NAME]: tag },
  });
  writeFileSync(indexPath, JSON.stringify(top));
}

export interface PushTarget {
  host: string;
  creds?: { username: string; password: string };
}

/** Pushes the layout's tags; tags of one image go one after the other so blobs upload once. */
export async function pushFixtures(layout: string, plain: PushTarget, auth: PushTarget): Promise<void> {
  const jobs = [
    ...PLAIN_PUSHES.map((p) => ({ ...p, target: plain })),
    ...AUTH_PUSHES.map((p) => ({ ...p, target: auth, all: false })),
  ];
  await Promise.all(
    jobs.map(async ({ tag, refs, all, target }) => {
      for (const ref of refs) {
        const args = ["copy", "-q", "--preserve-digests", "--dest-tls-verify=false"];
        if (all) args.push("--all");
        if (target.creds) args.push("--dest-creds", `${target.creds.username}:${target.creds.password}`);
        await run("skopeo", [...args, `oci:${layout}:${tag}`, `docker://${target.host}/${ref}`]);
      }
    }),
  );
}

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Digests as the registry serves them (what a pull by tag resolves to). */
export async function readDigests(url: string, refs: readonly string[], basicAuth?: string): Promise<Record<string, ImageDigests>> {
  const out: Record<string, ImageDigests> = {};
  for (const ref of refs) {
    const [repo, tag] = ref.split(":") as [string, string];
    const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
    if (basicAuth) headers.Authorization = `Basic ${basicAuth}`;
    const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw new Error(`GET manifest ${ref}: HTTP ${res.status} ${body.toString()}`);
    const manifest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    const parsed = JSON.parse(body.toString()) as { config?: { digest: string } };
    out[ref] = parsed.config ? { manifest, config: parsed.config.digest } : { manifest };
  }
  return out;
}

export function allPlainRefs(): string[] {
  const refs = new Set<string>();
  for (const v of Object.values(PLAIN_REFS)) for (const r of typeof v === "string" ? [v] : v) refs.add(r);
  return [...refs];
}

/** Moves a finished build into the cache atomically and drops older keys. */
export function saveFixtureCache(
  cacheRoot: string,
  key: string,
  built: { layout: string; pauseBinary: string; registryStorage: string; authRegistryStorage: string },
  digests: Record<string, ImageDigests>,
): void {
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = join(cacheRoot, `${key}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const p = cachePaths(tmp);
  mkdirSync(tmp);
  cpSync(built.layout, p.layout, { recursive: true });
  cpSync(built.pauseBinary, p.pauseBinary);
  cpSync(built.registryStorage, p.registryStorage, { recursive: true });
  cpSync(built.authRegistryStorage, p.authRegistryStorage, { recursive: true });
  writeFileSync(join(tmp, "digests.json"), JSON.stringify(digests, null, 2) + "\n");
  try {
    renameSync(tmp, join(cacheRoot, key));
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run cached the same key first
  }
  for (const entry of readdirSync(cacheRoot)) {
    const builder = /\.tmp-(\d+)$/.exec(entry);
    // Older keys go, and half-built dirs whose builder died; a live builder's dir stays.
    if (entry !== key && (!builder || !pidAlive(Number(builder[1])))) {
      rmSync(join(cacheRoot, entry), { recursive: true, force: true });
    }
  }
}

/** Turns registry-relative refs into full references and digests keyed by them. */
export function fixtureImages(
  plainHost: string,
  authHost: string,
  relDigests: Record<string, ImageDigests>,
): { images: FixtureImages; digests: Record<string, ImageDigests> } {
  const p = (ref: string) => `${plainHost}/${ref}`;
  const images: FixtureImages = {
    busybox: p(PLAIN_REFS.busybox),
    busyboxTags: PLAIN_REFS.busyboxTags.map(p),
    busyboxUser: p(PLAIN_REFS.busyboxUser),
    busyboxV2: p(PLAIN_REFS.busyboxV2),
    multi: p(PLAIN_REFS.multi),
    pause: p(PLAIN_REFS.pause),
    moving: p(PLAIN_REFS.moving),
    movingV1: p(PLAIN_REFS.movingV1),
    movingNext: p(PLAIN_REFS.movingNext),
    private: `${authHost}/${AUTH_REFS.private}`,
  };
  const digests: Record<string, ImageDigests> = {};
  for (const [rel, d] of Object.entries(relDigests)) {
    digests[rel === AUTH_REFS.private ? `${authHost}/${rel}` : p(rel)] = d;
  }
  return { images, digests };
}
