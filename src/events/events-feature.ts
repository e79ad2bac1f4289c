// The events feature as the composition root builds it: GetContainerEvents over the hub the
// pod and container features emit into (built first, as their ContainerEventSink), which
// reads the pod and container statuses each event carries once those stores are recovered.
import type { CriDeps, ImageProvider } from "../common/deps.js";
import type { Feature } from "../common/feature.js";
import type { ContainerStore } from "../container/container-store.js";
import type { SandboxStore } from "../pod/sandbox-store.js";
import type { ContainerEventHub } from "./container-events.js";
import { eventStatusSource } from "./events-statuses.js";
import { getContainerEvents } from "./events-get.js";

export interface EventsUses {
  hub: ContainerEventHub;
  sandboxes: SandboxStore;
  containers: ContainerStore;
  images: ImageProvider;
}

export function eventsFeature(_deps: CriDeps, uses: EventsUses): Feature {
  const { hub } = uses;
  return {
    runtime: { getContainerEvents: getContainerEvents(hub) },
    image: {},
    start: async () => hub.attach(eventStatusSource(uses.sandboxes, uses.containers, uses.images)),
    /** Ends every event stream: first thing when crib stops. */
    stop: async () => hub.close(),
    api: undefined,
  };
}
