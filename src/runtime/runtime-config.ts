// RuntimeConfig: the cgroup driver the kubelet must match. As containerd's CRI: systemd
// when the default runtime's runc options set SystemdCgroup, else cgroupfs.
import { CgroupDriver } from "../gen/runtime/v1/api_pb.js";
import type { Config } from "../config.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";

export function cgroupDriverOf(config: Config): CgroupDriver {
  const rt = config.runtimes[config.defaultRuntimeName];
  return rt?.options["SystemdCgroup"] === true ? CgroupDriver.SYSTEMD : CgroupDriver.CGROUPFS;
}

export function runtimeConfig(deps: CriDeps): RuntimeHandlers["runtimeConfig"] {
  return async () => ({ linux: { cgroupDriver: cgroupDriverOf(deps.config) } });
}
