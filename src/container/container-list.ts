// ListContainers, answered from the store with containerd's filter semantics: the id and
// pod sandbox id may be unique prefixes (a prefix matching several ids matches nothing),
// state is exact, every label selector pair must match.
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ContainerSchema, ListContainersResponseSchema, type ContainerFilter, type ContainerState, type ListContainersResponse } from "../gen/runtime/v1/api_pb.js";
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
 * A container's entry as encoded on the wire (length-prefixed), kept until its state
 * changes (nothing else in it does): the kubelet lists every container about once a
 * second, and encoding hundreds of them each time was most of crib's CPU.
 */
const encodedEntries = new WeakMap<Container, { state: ContainerState; data: Uint8Array }>();

function encodedEntry(c: Container): Uint8Array {
  const state = c.state;
  const hit = encodedEntries.get(c);
  if (hit && hit.state === state) return hit.data;
  const data = new BinaryWriter().bytes(toBinary(ContainerSchema, create(ContainerSchema, criContainer(c)))).finish();
  encodedEntries.set(c, { state, data });
  return data;
}

/**
 * The reply with its entries pre-encoded: carried as field 1 ("containers") in the
 * message's unknown fields, which protobuf-es writes as they are, so the bytes on the
 * wire are those of { containers: [...] }.
 */
export function listContainersReply(containers: readonly Container[]): ListContainersResponse {
  const reply = create(ListContainersResponseSchema);
  reply.$unknown = containers.map((c) => ({ no: 1, wireType: WireType.LengthDelimited, data: encodedEntry(c) }));
  return reply;
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
