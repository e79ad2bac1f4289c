// PodSandboxStatus and ListPodSandbox, answered from the in-memory store.
import { create, toBinary } from "@bufbuild/protobuf";
import { EncodedReply } from "../rpc/proto-service.js";
import { WireOut } from "../rpc/wire-out.js";
import {
  ListPodSandboxResponseSchema,
  NamespaceMode,
  PodSandboxMetadataSchema,
  PodSandboxSchema,
  PodSandboxState,
  PodSandboxStatusResponseSchema,
  PodSandboxStatusSchema,
  type PodSandbox,
  type PodSandboxFilter,
  type PodSandboxStatus,
} from "../gen/runtime/v1/api_pb.js";
import type { Sandbox } from "./sandbox-store.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import type { PodState } from "./pod-state.js";
import { parseExact, stringifyExact } from "../containerd/exact-json.js";

function criState(s: Sandbox): PodSandboxState {
  return s.state === "ready" ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
}

export function sandboxStatusOf(s: Sandbox): Omit<PodSandboxStatus, "$typeName"> {
  const c = s.meta.config;
  const ns = c.linux?.securityContext?.namespaceOptions;
  return {
    id: s.meta.id,
    metadata: c.metadata ?? create(PodSandboxMetadataSchema),
    state: criState(s),
    createdAt: s.createdAt,
    network: { ip: s.meta.ip, additionalIps: s.meta.additionalIps.map((ip) => ({ ip })) } as PodSandboxStatus["network"],
    linux: {
      namespaces: {
        options: {
          network: ns?.network ?? NamespaceMode.POD,
          pid: ns?.pid ?? NamespaceMode.CONTAINER,
          ipc: ns?.ipc ?? NamespaceMode.POD,
          targetId: ns?.targetId ?? "",
        },
      },
    } as PodSandboxStatus["linux"],
    labels: c.labels,
    annotations: c.annotations,
    runtimeHandler: s.meta.runtimeHandler,
  };
}

async function verboseInfo(deps: CriDeps, s: Sandbox): Promise<Record<string, string>> {
  let runtimeSpec: unknown = null;
  let snapshotKey = "";
  let snapshotter = "";
  let image = "";
  try {
    const c = (await deps.containerd.containers.get({ id: s.meta.id })).container;
    if (c?.spec) runtimeSpec = parseExact(Buffer.from(c.spec.value).toString("utf8"));
    snapshotKey = c?.snapshotKey ?? "";
    snapshotter = c?.snapshotter ?? "";
    image = c?.image ?? "";
  } catch {
    // Status must answer even when the container record is gone.
  }
  const info = {
    pid: s.pid,
    processStatus: s.state === "ready" ? "running" : "stopped",
    netNamespaceClosed: s.meta.netnsPath === "",
    netNamespacePath: s.meta.netnsPath,
    image,
    imageId: s.imageId,
    snapshotKey,
    snapshotter,
    runtimeHandler: s.meta.runtimeHandler,
    runtimeType: s.runtimeType,
    config: s.meta.config,
    runtimeSpec,
    cniResult: s.meta.cniResult,
  };
  return { info: stringifyExact(info) };
}

/**
 * A pod's status as field 1 on the wire (tag, length, message), kept until its state
 * changes (nothing else in it does; the metadata object is checked too).
 */
const encodedStatuses = new WeakMap<Sandbox, { state: PodSandboxState; meta: object; data: Buffer }>();

/** The non-verbose PodSandboxStatus reply: `{ status, timestamp }` on the wire. */
export function podSandboxStatusReply(s: Sandbox, timestampNs: bigint): EncodedReply<typeof PodSandboxStatusResponseSchema> {
  const state = criState(s);
  let hit = encodedStatuses.get(s);
  if (!hit || hit.state !== state || hit.meta !== s.meta) {
    const data = new WireOut(512).bytes(1, toBinary(PodSandboxStatusSchema, create(PodSandboxStatusSchema, sandboxStatusOf(s)))).finish();
    encodedStatuses.set(s, (hit = { state, meta: s.meta, data }));
  }
  return new EncodedReply(PodSandboxStatusResponseSchema, new WireOut(hit.data.length + 11).raw(hit.data).int64(4, timestampNs).finish());
}

export function podSandboxStatus(deps: CriDeps, state: PodState): RuntimeHandlers["podSandboxStatus"] {
  return async (req) => {
    const s = state.sandboxes.get(req.podSandboxId);
    if (!req.verbose) return podSandboxStatusReply(s, BigInt(Date.now()) * 1_000_000n);
    return {
      status: sandboxStatusOf(s),
      info: await verboseInfo(deps, s),
      timestamp: BigInt(Date.now()) * 1_000_000n,
    };
  };
}

export function matchesLabels(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function filterSandboxes(all: Sandbox[], filter: PodSandboxFilter | undefined, find: (id: string) => Sandbox | undefined): Sandbox[] {
  if (!filter) return all;
  let list = all;
  if (filter.id) {
    const one = find(filter.id);
    list = one ? [one] : [];
  }
  if (filter.state) {
    const want = filter.state.state;
    list = list.filter((s) => criState(s) === want);
  }
  return list.filter((s) => matchesLabels(s.meta.config.labels, filter.labelSelector));
}

function podSandboxOf(s: Sandbox): Omit<PodSandbox, "$typeName"> {
  return {
    id: s.meta.id,
    metadata: s.meta.config.metadata ?? create(PodSandboxMetadataSchema),
    state: criState(s),
    createdAt: s.createdAt,
    labels: s.meta.config.labels,
    annotations: s.meta.config.annotations,
    runtimeHandler: s.meta.runtimeHandler,
  };
}

/**
 * A pod's entry as encoded on the wire (field 1's tag, length, message), kept until its state changes
 * (nothing else in it does), as ListContainers keeps its entries (container-list.ts).
 */
const encodedItems = new WeakMap<Sandbox, { state: PodSandboxState; data: Uint8Array }>();

function encodedItem(s: Sandbox): Uint8Array {
  const state = criState(s);
  const hit = encodedItems.get(s);
  if (hit && hit.state === state) return hit.data;
  const data = new WireOut(256).bytes(1, toBinary(PodSandboxSchema, create(PodSandboxSchema, podSandboxOf(s)))).finish();
  encodedItems.set(s, { state, data });
  return data;
}

export function listPodSandbox(_deps: CriDeps, state: PodState): RuntimeHandlers["listPodSandbox"] {
  return async (req) => {
    const items = filterSandboxes(state.sandboxes.list(), req.filter, (id) => state.sandboxes.find(id));
    // The wire bytes of { items: [...] }: the entries (tag, length, message), one after the other.
    return new EncodedReply(ListPodSandboxResponseSchema, Buffer.concat(items.map(encodedItem)));
  };
}
