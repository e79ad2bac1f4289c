// The statuses a container event carries, read from the stores as the status RPCs read
// them: PodSandboxStatus of the pod (without verbose info) and ContainerStatus of each of
// its containers.
import type { EventStatusSource } from "./container-events.js";
import type { ContainerStore } from "../container/container-store.js";
import type { ImageProvider } from "../common/deps.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import { criContainerStatus } from "../container/container-status.js";
import { sandboxStatusOf } from "../pod/sandbox-status.js";

export function eventStatusSource(sandboxes: SandboxStore, containers: ContainerStore, images: ImageProvider): EventStatusSource {
  return {
    sandboxStatus(sandboxId) {
      const s = sandboxes.find(sandboxId);
      return s && s.meta.id === sandboxId ? sandboxStatusOf(s) : undefined;
    },
    containerStatuses(sandboxId) {
      return containers.listBySandbox(sandboxId).map((c) => criContainerStatus(c, images.resolve(c.meta.imageRef)));
    },
  };
}
