// What a containerd namespace holds in CRI shapes and where each record's files are: the
// facts `crib migrate check` and the start-up guard judge. Read-only: containerd is only
// listed (Containers/List, Tasks/Get, Introspection/Plugins) and files are only stat'ed.
import { access } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Status as TaskStatus } from "../gen/github.com/containerd/containerd/api/types/task/task_pb.js";
import type { Containerd } from "../containerd/client.js";
import type { Container as ContainerdContainer } from "../gen/github.com/containerd/containerd/api/services/containers/v1/containers_pb.js";
import { parseJsonAny } from "../containerd/any.js";
import { OCI_SPEC_TYPE_URL, type OciSpec } from "../oci/spec-types.js";
import { isNotFound } from "../errors.js";
import { decodeContainerMetadata, CONTAINER_METADATA_EXTENSION } from "../container/container-metadata.js";
import { decodeSandboxMetadata, SANDBOX_METADATA_EXTENSION } from "../pod/sandbox-metadata.js";
import { KIND_CONTAINER, KIND_LABEL, KIND_SANDBOX } from "../common/labels.js";
import { isHostIpc } from "../pod/sandbox-files.js";

/** containerd's CRI plugin keeps its files in <root>/<id> and <state>/<id>. */
export const CRI_PLUGIN_DIR = "io.containerd.grpc.v1.cri";
/** containerd's defaults (its config's root and state). */
export const CONTAINERD_DEFAULT_ROOT = "/var/lib/containerd";
export const CONTAINERD_DEFAULT_STATE = "/run/containerd";

/** "unchecked": the inventory was taken without Tasks/Get calls. */
export type TaskState = "running" | "stopped" | "created" | "none" | "unchecked";

export interface PodFacts {
  id: string;
  name: string;
  hostIpc: boolean;
  task: TaskState;
  /** hostname, hosts and resolv.conf under <dir>/sandboxes/<id>. */
  filesIn: { crib: boolean; cri: boolean };
}

export interface ContainerFacts {
  id: string;
  name: string;
  podId: string;
  task: TaskState;
  /** the status checkpoint <dir>/containers/<id>/status. */
  statusIn: { crib: boolean; cri: boolean };
}

export interface Dirs {
  root: string;
  state: string;
}

export interface Inventory {
  namespace: string;
  /** crib's root_dir and state_dir. */
  crib: Dirs;
  /** containerd's CRI plugin dirs (found from containerd, or given). */
  cri: Dirs;
  pods: PodFacts[];
  containers: ContainerFacts[];
  /** Records with the CRI kind label but no readable metadata: nobody can adopt them. */
  unreadable: string[];
}

const exists = (p: string) => access(p).then(
  () => true,
  () => false,
);

async function allExist(paths: string[]): Promise<boolean> {
  return (await Promise.all(paths.map(exists))).every(Boolean);
}

/** Whether a pod's hostname, hosts and resolv.conf are under <dir>/sandboxes/<id>. */
export function podFilesIn(dir: string, id: string): Promise<boolean> {
  return allExist(["hostname", "hosts", "resolv.conf"].map((f) => join(dir, "sandboxes", id, f)));
}

async function taskState(cd: Containerd, id: string): Promise<TaskState> {
  try {
    const s = (await cd.tasks.get({ containerId: id })).process?.status;
    if (s === TaskStatus.RUNNING || s === TaskStatus.PAUSED || s === TaskStatus.PAUSING) return "running";
    if (s === TaskStatus.CREATED) return "created";
    return "stopped";
  } catch (e) {
    if (isNotFound(e)) return "none";
    throw e;
  }
}

/** containerd's root: the content store's exported root is <root>/io.containerd.content.v1.content. */
export async function containerdRoot(cd: Containerd): Promise<string | undefined> {
  const res = await cd.introspection.plugins({ filters: [] });
  const content = res.plugins.find((p) => p.type === "io.containerd.content.v1" && p.id === "content");
  const root = content?.exports["root"];
  return root ? dirname(root) : undefined;
}

/** containerd's state dir, from a container spec's /dev/shm source <state>/io.containerd.grpc.v1.cri/sandboxes/<id>/shm. */
function stateFromSpecs(records: ContainerdContainer[]): string | undefined {
  const re = new RegExp(`^(.*)/${CRI_PLUGIN_DIR.replace(/\./g, "\\.")}/sandboxes/[^/]+/shm$`);
  for (const r of records) {
    const spec = parseJsonAny<OciSpec>(r.spec, OCI_SPEC_TYPE_URL);
    for (const m of spec?.mounts ?? []) {
      const hit = m.destination === "/dev/shm" ? re.exec(m.source ?? "") : null;
      if (hit) return hit[1];
    }
  }
  return undefined;
}

export interface InventoryOptions {
  crib: Dirs;
  /** containerd's root and state; found from containerd (else its defaults) when absent. */
  containerdRoot?: string;
  containerdState?: string;
  /** Ask containerd for each record's task (default true); the start-up guard needs no task. */
  tasks?: boolean;
}

export async function takeInventory(cd: Containerd, o: InventoryOptions): Promise<Inventory> {
  const list = async (kind: string) => (await cd.containers.list({ filters: [`labels."${KIND_LABEL}"==${kind}`] })).containers;
  const [sandboxes, containers] = await Promise.all([list(KIND_SANDBOX), list(KIND_CONTAINER)]);
  const root = o.containerdRoot ?? (await containerdRoot(cd)) ?? CONTAINERD_DEFAULT_ROOT;
  const withTasks = o.tasks ?? true;
  const task = (id: string): Promise<TaskState> => (withTasks ? taskState(cd, id) : Promise.resolve("unchecked"));
  const state = o.containerdState ?? stateFromSpecs([...containers, ...sandboxes]) ?? CONTAINERD_DEFAULT_STATE;
  const cri: Dirs = { root: join(root, CRI_PLUGIN_DIR), state: join(state, CRI_PLUGIN_DIR) };
  const unreadable: string[] = [];

  const pods: PodFacts[] = [];
  for (const r of sandboxes) {
    const meta = decodeSandboxMetadata(r.extensions[SANDBOX_METADATA_EXTENSION]);
    if (!meta) {
      unreadable.push(r.id);
      continue;
    }
    const files = (dir: string) => podFilesIn(dir, r.id);
    pods.push({
      id: r.id,
      name: meta.name,
      hostIpc: isHostIpc(meta.config),
      task: await task(r.id),
      filesIn: { crib: await files(o.crib.root), cri: await files(cri.root) },
    });
  }
  const facts: ContainerFacts[] = [];
  for (const r of containers) {
    const meta = decodeContainerMetadata(r.extensions[CONTAINER_METADATA_EXTENSION]);
    if (!meta) {
      unreadable.push(r.id);
      continue;
    }
    const status = (dir: string) => exists(join(dir, "containers", r.id, "status"));
    facts.push({
      id: r.id,
      name: meta.name,
      podId: meta.sandboxId,
      task: await task(r.id),
      statusIn: { crib: await status(o.crib.root), cri: await status(cri.root) },
    });
  }
  return { namespace: cd.namespace, crib: o.crib, cri, pods, containers: facts, unreadable };
}
