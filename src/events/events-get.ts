// GetContainerEvents: streams the hub's events to one subscriber until it cancels, crib
// stops (the stream ends OK) or it falls behind (RESOURCE_EXHAUSTED). A client that stops
// reading holds up only its own stream: its writes wait for HTTP/2 flow control while the
// hub queues, then drops it.
import type { ContainerEventHub } from "./container-events.js";
import type { RuntimeHandlers } from "../common/deps.js";

export function getContainerEvents(hub: ContainerEventHub): RuntimeHandlers["getContainerEvents"] {
  return async (_req, send, call) => {
    const sub = hub.subscribe();
    const onCancel = () => sub.close();
    call.on("cancelled", onCancel);
    try {
      for (;;) {
        const event = await sub.next();
        if (!event) return;
        const sent = await Promise.race([send(event).then(() => true), sub.interrupted.then(() => false)]);
        if (sub.failure) throw sub.failure;
        // Cancelled, or crib is stopping, while this client was not reading.
        if (!sent) return;
      }
    } finally {
      call.off("cancelled", onCancel);
      sub.close();
    }
  };
}
