// What the pod RPCs share besides crib's deps: the sandbox store and the lower features
// they use (the image feature for the sandbox image, the event sink).
import type { ContainerEventSink } from "../common/container-event-sink.js";
import type { ImageProvider } from "../common/deps.js";
import type { ContainerApi } from "../container/container-feature.js";
import type { SandboxStore } from "./sandbox-store.js";

/** What the pod RPCs need of the container feature's API: taking a pod's containers with it. */
export type PodContainers = Pick<ContainerApi, "stopContainers" | "removeContainers">;

export interface PodState {
  sandboxes: SandboxStore;
  images: ImageProvider;
  /** GetContainerEvents' feed: called right after each pod state change is in the store. */
  events?: ContainerEventSink;
}
