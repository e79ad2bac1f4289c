// ListContainers, answered from the store with containerd's filter semantics: the id and
// pod sandbox id may be unique prefixes (a prefix matching several ids matches nothing),
// state is exact, every label selector pair must match.
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ContainerSchema, ListContainersResponseSchema, type ContainerFilter, type ContainerState } from "../gen/runtime/v1/api_pb.js";
import { EncodedReply } from "../rpc/proto-service.js";
import { WireOut } from "../rpc/wire-out.js";
import type { Container } from "./container-store.js";
import type { RuntimeHandlers } from "../common/deps.js";
import type { ContainerContext } from "./container-context.js";

export function criContainer(c: Container): MessageInitShape<typeof ContainerSchema> {
  const config = c.meta.config;
  return {
    id: c.id,
    podSandboxId: c.meta.sandboxId,
    metadata: config.metadata,
    image: config.image,
    imageRef: c.meta.imageRef,
    imageId: c.meta.imageRef,
    state: c.state,
    createdAt: c.status.createdAt,
    labels: config.labels,
    annotations: config.annotations,
  };
}

/** Whether a container passes a filter whose ids were already resolved to full ids. */
export function matchesFilter(c: Container, f: Pick<ContainerFilter, "id" | "podSandboxId" | "state" | "labelSelector">): boolean {
  if (f.id !== "" && f.id !== c.id) return false;
  if (f.podSandboxId !== "" && f.podSandboxId !== c.meta.sandboxId) return false;
  if (f.state && f.state.state !== c.state) return false;
  for (const [k, v] of Object.entries(f.labelSelector)) if (c.meta.config.labels[k] !== v) return false;
  return true;
}

/**
 * A container's entry as encoded on the wire (field 1's tag, length, message), kept until its state
 * changes (nothing else in it does): the kubelet lists every container about once a
 * second, and encoding hundreds of them each time was most of crib's CPU.
 */
const encodedEntries = new WeakMap<Container, { state: ContainerState; data: Uint8Array }>();

function encodedEntry(c: Container): Uint8Array {
  const state = c.state;
  const hit = encodedEntries.get(c);
  if (hit && hit.state === state) return hit.data;
  const data = new WireOut(256).bytes(1, toBinary(ContainerSchema, create(ContainerSchema, criContainer(c)))).finish();
  encodedEntries.set(c, { state, data });
  return data;
}

/** The reply as the wire bytes of { containers: [...] }: the entries, one after the other. */
export function listContainersReply(containers: readonly Container[]): EncodedReply<typeof ListContainersResponseSchema> {
  return new EncodedReply(ListContainersResponseSchema, Buffer.concat(containers.map(encodedEntry)));
}

export function listContainers(ctx: ContainerContext): RuntimeHandlers["listContainers"] {
  return async (req) => {
    const all = ctx.containers.list();
    const f = req.filter;
    if (!f) return listContainersReply(all);
    const resolved = {
      id: f.id === "" ? "" : (ctx.containers.find(f.id)?.id ?? f.id),
      podSandboxId: f.podSandboxId === "" ? "" : (ctx.state.sandboxes.find(f.podSandboxId)?.meta.id ?? f.podSandboxId),
      state: f.state,
      labelSelector: f.labelSelector,
    };
    return listContainersReply(all.filter((c) => matchesFilter(c, resolved)));
  };
}
