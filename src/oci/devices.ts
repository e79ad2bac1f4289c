// Device nodes and the device cgroup (customopts.WithDevices, oci.WithDevices,
// WithHostDevices, WithAllDevicesAllowed). Stat'ing /dev is the caller's side effect:
// it turns each CRI device's host path into DeviceNode records (deviceNodeFromStat helps).
import { invalidArgument } from "../errors.js";
import type { Device } from "../gen/runtime/v1/api_pb.js";
import { joinPath } from "./go-path.js";
import type { OciDevice, OciDeviceCgroup } from "./spec-types.js";

/**
 * A device node found under a CRI device's host path. `relPath` is "" for the host path
 * itself and "sub/node" for nodes found walking a directory (pts, shm, fd, mqueue and
 * fifos skipped, as containerd's getDevices does).
 */
export interface DeviceNode {
  relPath: string;
  type: "c" | "b" | "p";
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** The fields of fs.Stats a device node needs. */
export interface DeviceStat {
  mode: number;
  rdev: number;
  uid: number;
  gid: number;
}

const S_IFMT = 0o170000;
const S_IFBLK = 0o060000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

/** containerd's DeviceFromPath on an lstat result; null when it is no device. */
export function deviceNodeFromStat(relPath: string, st: DeviceStat): DeviceNode | null {
  const fmt = st.mode & S_IFMT;
  const type = fmt === S_IFBLK ? "b" : fmt === S_IFCHR ? "c" : fmt === S_IFIFO ? "p" : null;
  if (type === null) return null;
  // glibc's major()/minor() for the 64-bit dev_t encoding.
  const dev = BigInt(st.rdev);
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { relPath, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

export interface DeviceSpec {
  devices: OciDevice[];
  cgroupRules: OciDeviceCgroup[];
}

/**
 * The spec devices and allow rules for the CRI devices. `nodes` maps each CRI host path
 * to what the caller found there; a device the caller could not find is an error.
 * With device_ownership_from_security_context, a non-zero run_as_user / run_as_group
 * owns the created nodes.
 */
export function criDevices(
  devices: readonly Pick<Device, "containerPath" | "hostPath" | "permissions">[],
  nodes: Readonly<Record<string, readonly DeviceNode[]>>,
  owner?: { uid: number; gid: number },
): DeviceSpec {
  const out: DeviceSpec = { devices: [], cgroupRules: [] };
  for (const d of devices) {
    const found = nodes[d.hostPath];
    if (!found || found.length === 0) throw invalidArgument(`error stating device path: ${d.hostPath}: no device found`);
    for (const n of found) {
      const base = d.containerPath !== "" ? d.containerPath : d.hostPath;
      const dev: OciDevice = {
        type: n.type,
        path: n.relPath === "" ? base : joinPath(base, n.relPath),
        major: n.major,
        minor: n.minor,
        fileMode: n.fileMode,
        uid: owner && owner.uid !== 0 ? owner.uid : n.uid,
        gid: owner && owner.gid !== 0 ? owner.gid : n.gid,
      };
      out.devices.push(dev);
      out.cgroupRules.push({ allow: true, type: n.type, major: n.major, minor: n.minor, access: d.permissions });
    }
  }
  return out;
}

/** oci.WithAllDevicesAllowed: the device cgroup rule list of a privileged container. */
export const ALL_DEVICES_ALLOWED: readonly OciDeviceCgroup[] = [{ allow: true, access: "rwm" }];
