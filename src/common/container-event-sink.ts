// What the pod and container code calls after each state change is in the store; the
// events feature (src/events/container-events.ts) implements it and is the only one that
// knows subscribers. Declared here so the features below events need not import it.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ContainerEventType, PodSandboxStatusSchema } from "../gen/runtime/v1/api_pb.js";

/** A no-op when nothing subscribes. */
export interface ContainerEventSink {
  /**
   * containerId is the sandbox id for the pod's own events. sandboxStatus stands in for a
   * sandbox the store no longer holds (the pod's DELETED event).
   */
  emit(
    type: ContainerEventType,
    containerId: string,
    sandboxId: string,
    sandboxStatus?: MessageInitShape<typeof PodSandboxStatusSchema>,
  ): void;
}
