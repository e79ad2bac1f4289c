// What the container side needs from a pod, declared here so container/ never imports pod/
// (pod sits above container: it stops and removes its containers through container's API).
// The composition root (src/server/compose.ts) passes pod's implementation
// (src/pod/pod-lookup.ts) in.
import type { PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";

/** A pod sandbox as the container RPCs read it (a subset of the pod store's record). */
export interface ContainerPod {
  readonly meta: {
    readonly id: string;
    readonly config: PodSandboxConfig;
    readonly runtimeHandler: string;
  };
  readonly state: "ready" | "notready" | "unknown";
  /** The pause process; 0 when it is not running. */
  readonly pid: number;
  /** The runtime (containerd runtime type) the pause container runs with. */
  readonly runtimeType: string;
}

/** The files a pod shares with its containers (hostname, hosts, resolv.conf, /dev/shm). */
export interface PodSharedFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
  shm: string;
}

export interface PodLookup {
  /** Exact id or a unique prefix of one. */
  find(idOrPrefix: string): ContainerPod | undefined;
  /** As find, NOT_FOUND when there is none. */
  get(idOrPrefix: string): ContainerPod;
  /** Where the pod keeps its shared files, for the config it was (or is being) run with. */
  sharedFiles(sandboxId: string, config: PodSandboxConfig): PodSharedFiles;
}
