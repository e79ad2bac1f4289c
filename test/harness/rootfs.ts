// Root filesystems for the fixture images, staged in a folder that umoci turns into a layer.
//
// busybox is Debian's *dynamic* build: the static one (busybox-static) runs applets
// in-process ("sh -c cat /proc/..." never execs cat), which hides what masked/readonly
// path checks need to see. So the image carries the shared libraries ldd names, and
// every applet is a hard link to /bin/busybox (one copy in the layer).
import { chmodSync, chownSync, copyFileSync, linkSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "./proc.js";

export const BUSYBOX_BIN = "/bin/busybox";
export const CRIB_UID = 1234;
export const CRIB_GID = 1234;
export const IMAGE_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Absolute library paths from `ldd` output ("libc.so.6 => /lib/.../libc.so.6 (0x...)"). */
export function parseLdd(output: string): string[] {
  const libs: string[] = [];
  for (const line of output.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m && !libs.includes(m[1]!)) libs.push(m[1]!);
  }
  return libs;
}

/** Applet paths relative to / from `busybox --list-full` ("usr/bin/[" ...). */
export function parseAppletList(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim().replace(/^\/+/, ""))
    .filter((l) => l !== "" && !l.includes(".."));
}

export const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  `crib:x:${CRIB_UID}:${CRIB_GID}:crib test user:/home/crib:/bin/sh`,
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");

/** A group the image defines with crib as a member: SupplementalGroupsPolicy Merge adds it, Strict does not. */
export const CRIB_EXTRA_GID = 5000;

export const GROUP = ["root:x:0:", `crib:x:${CRIB_GID}:`, `crib-extra:x:${CRIB_EXTRA_GID}:crib`, "nogroup:x:65534:", ""].join("\n");

/** Stages busybox, its libraries, users and the usual empty folders under `root`. */
export async function stageBusyboxRootfs(root: string, marker: string): Promise<void> {
  const busybox = join(root, "bin/busybox");
  mkdirSync(dirname(busybox), { recursive: true });
  copyFileSync(BUSYBOX_BIN, busybox);
  chmodSync(busybox, 0o755);

  const { stdout: applets } = await run(BUSYBOX_BIN, ["--list-full"]);
  for (const rel of parseAppletList(applets)) {
    if (rel === "bin/busybox") continue;
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    linkSync(busybox, path);
  }

  const { stdout: ldd } = await run("ldd", [BUSYBOX_BIN]);
  for (const lib of parseLdd(ldd)) {
    // Copied to the path the loader looks for, following bookworm's /lib -> usr/lib link.
    const dest = join(root, lib);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(lib, dest);
    chmodSync(dest, 0o755);
  }

  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), PASSWD);
  writeFileSync(join(root, "etc/group"), GROUP);
  writeFileSync(join(root, "etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
  // Lets a test tell which image content a container runs (e.g. after a tag moved).
  writeFileSync(join(root, "etc/crib-fixture"), marker + "\n");

  for (const d of ["tmp", "var/tmp"]) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), 0o1777);
  }
  mkdirSync(join(root, "root"), { recursive: true });
  chmodSync(join(root, "root"), 0o700);
  for (const d of ["proc", "sys", "dev", "run", "var/log"]) mkdirSync(join(root, d), { recursive: true });
  const home = join(root, "home/crib");
  mkdirSync(home, { recursive: true });
  chownSync(home, CRIB_UID, CRIB_GID);
}

/** FROM scratch + /pause, compiled statically so the image needs nothing else. */
export async function stagePauseRootfs(root: string, pauseSource: string, pauseBinary: string): Promise<void> {
  mkdirSync(root, { recursive: true });
  await run("gcc", ["-static", "-O2", "-s", "-Wall", "-o", pauseBinary, pauseSource]);
  copyFileSync(pauseBinary, join(root, "pause"));
  chmodSync(join(root, "pause"), 0o755);
}

/** The arm64 half of the multi-arch index: different content, never meant to run here. */
export function stageArm64Rootfs(root: string): void {
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/crib-fixture"), "arm64\n");
}
