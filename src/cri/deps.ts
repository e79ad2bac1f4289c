// What the CRI handlers are given: configuration, the containerd clients and the stores.
// Handlers are pure over these; the server builds one CriDeps at start.
import type { ServiceHandlers } from "../rpc/proto-service.js";
import type { ImageService, RuntimeService } from "../gen/runtime/v1/api_pb.js";
import type { Config } from "../config.js";
import type { Containerd } from "../containerd/client.js";
import type { Capabilities } from "../containerd/capabilities.js";
import type { Logger } from "../log.js";

export interface CriDeps {
  config: Config;
  containerd: Containerd;
  capabilities: Capabilities;
  logger: Logger;
}

export type RuntimeHandlers = ServiceHandlers<typeof RuntimeService.method>;
export type ImageHandlers = ServiceHandlers<typeof ImageService.method>;
