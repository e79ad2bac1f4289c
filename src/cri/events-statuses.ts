// The statuses a container event carries, read from the stores as the status RPCs read
// them: PodSandboxStatus of the pod (without verbose info) and ContainerStatus of each of
// its containers.
import type { EventStatusSource } from "../events/container-events.js";
import type { ContainerStore } from "../store/container-store.js";
import type { RuntimeState } from "./deps.js";
import { criContainerStatus } from "./container-status.js";
import { sandboxStatusOf } from "./sandbox-status.js";

export function eventStatusSource(state: RuntimeState, containers: ContainerStore): EventStatusSource {
  return {
    sandboxStatus(sandboxId) {
      const s = state.sandboxes.find(sandboxId);
      return s && s.meta.id === sandboxId ? sandboxStatusOf(s) : undefined;
    },
    containerStatuses(sandboxId) {
      return containers.listBySandbox(sandboxId).map((c) => criContainerStatus(c, state.images.resolve(c.meta.imageRef)));
    },
  };
}
