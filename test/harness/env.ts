// What the harness (test/harness/run.ts) started for this test run, as tests see it.
// The harness writes this JSON into its temp dir and passes its path in CRIB_HARNESS.
import { readFileSync } from "node:fs";

export const HARNESS_ENV = "CRIB_HARNESS";

export interface ContainerdInfo {
  /** unix socket path of containerd's gRPC API (no "unix://" prefix) */
  address: string;
  root: string;
  state: string;
  configPath: string;
  logPath: string;
  /** folder with containerd, containerd-shim-runc-v2 and ctr (the private 2.x build) */
  binDir: string;
  pid: number;
  /** e.g. "2.1.9" (from `containerd --version`) */
  version: string;
  /** Debian package version it was unpacked from, e.g. "2.1.9+ds1-5" */
  debVersion: string;
}

/** The second containerd, with its built-in CRI plugin, for comparisons (`--with-cri`). */
export interface CriContainerdInfo extends ContainerdInfo {
  /** unix socket serving runtime.v1 + image service (the same socket as `address`) */
  criAddress: string;
  /** pinned sandbox image: images.pause */
  sandboxImage: string;
}

export interface RegistryInfo {
  /** "127.0.0.1:<port>", usable as an image reference prefix */
  host: string;
  /** "http://127.0.0.1:<port>" */
  url: string;
  logPath: string;
}

export interface AuthRegistryInfo extends RegistryInfo {
  username: string;
  password: string;
}

export interface CniInfo {
  /** plugin binaries (Debian's containernetworking-plugins) */
  binDir: string;
  /** holds only the harness's conflist */
  confDir: string;
  confFile: string;
  networkName: string;
  bridge: string;
  /** CIDR handed out by host-local, e.g. "10.88.123.0/24", one per run (used only inside test netns) */
  subnet: string;
  gateway: string;
  ipamDataDir: string;
}

/** Image references ("<host>/<repo>:<tag>") pushed by the harness. */
export interface FixtureImages {
  /** busybox (Debian's dynamic build + its libs), Cmd ["sh"], no Entrypoint */
  busybox: string;
  /** the same image under every tag: busybox:latest, :1.0, :1.1 */
  busyboxTags: string[];
  /** User "1234:1234" (user crib), WorkingDir /home/crib, Entrypoint ["/bin/sh","-c"], Cmd ["id"] */
  busyboxUser: string;
  /** a different image (busybox + /etc/crib-fixture saying "v2") */
  busyboxV2: string;
  /** OCI index: linux/amd64 = busybox, linux/arm64 = a tiny non-runnable image */
  multi: string;
  /** our static pause at /pause, Entrypoint ["/pause"] */
  pause: string;
  /** a tag tests may move: starts as the busybox image */
  moving: string;
  /** same content as moving's start */
  movingV1: string;
  /** other content (= busyboxV2) to copy onto `moving` with pushImage() */
  movingNext: string;
  /** busybox on the htpasswd registry (needs authRegistry's credentials) */
  private: string;
}

export interface ImageDigests {
  /** digest of the manifest (or index, for multi) as the registry serves it */
  manifest: string;
  /** digest of the config blob: the image ID containerd/CRI report (absent for an index) */
  config?: string;
}

export interface HarnessInfo {
  /** the run's temp dir (/tmp/crib-test-XXXX); everything under it is removed at the end */
  tmpDir: string;
  /** a scratch folder under tmpDir that tests may use freely */
  scratchDir: string;
  /** where crib under test should pin pod network namespaces (unmounted at teardown) */
  netnsDir: string;
  /** containerd 2.x without any CRI plugin: crib's backend */
  containerd: ContainerdInfo;
  criContainerd?: CriContainerdInfo;
  registry: RegistryInfo;
  authRegistry: AuthRegistryInfo;
  /** containerd certs.d layout: <hostsDir>/127.0.0.1:<port>/hosts.toml for both registries */
  hostsDir: string;
  cni: CniInfo;
  images: FixtureImages;
  /** keyed by image reference (every value of `images`, each busybox tag) */
  digests: Record<string, ImageDigests>;
  /** bookworm's runc, the one the shims run */
  runc: string;
  /** the static pause binary that is inside images.pause */
  pauseBinary: string;
}

/** Reads the harness description; only works under `npx tsx test/harness/run.ts -- ...`. */
export function loadHarness(): HarnessInfo {
  const path = process.env[HARNESS_ENV];
  if (!path) {
    throw new Error(
      `${HARNESS_ENV} is not set: integration tests need the harness. Run them as ` +
        "`npx tsx test/harness/run.ts -- node --import tsx --test <file>` (or `make test-integration`).",
    );
  }
  try {
    return JSON.parse(readFileSync(path, "utf8")) as HarnessInfo;
  } catch (err) {
    throw new Error(`${HARNESS_ENV}=${path} is unreadable: ${(err as Error).message}`);
  }
}
