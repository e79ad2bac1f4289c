// What the CRI handlers are given: configuration, the containerd clients and the stores.
// Handlers are pure over these; the server builds one CriDeps at start.
import type { ServiceHandlers } from "../rpc/proto-service.js";
import type { ImageService, RuntimeService } from "../gen/runtime/v1/api_pb.js";
import type { Config } from "../config.js";
import type { Containerd } from "../containerd/client.js";
import type { Capabilities } from "../containerd/capabilities.js";
import type { Logger } from "../log.js";
import type { ImageConfig } from "../oci/spec-types.js";
import type { HandlerFeatureMap } from "./handler-features.js";

/** An image as the runtime RPCs need it. */
export interface LocalImage {
  /** sha256:<config digest> */
  id: string;
  /** A containerd image record name for it (the container's `image` field). */
  name: string;
  /** Parent of the container's rootfs snapshot. */
  chainId: string;
  config: ImageConfig;
  /** The references the image is known by (tags and digests). */
  references: string[];
}

/** What the runtime side needs from the image service. */
export interface ImageProvider {
  /** The local image a CRI image spec (reference, id or id prefix) names, if present. */
  resolve(ref: string): LocalImage | undefined;
  /** Pulls when missing (the sandbox image), then resolves. */
  ensure(ref: string, opts: { pinned: boolean }): Promise<LocalImage>;
}

export interface CriDeps {
  config: Config;
  containerd: Containerd;
  capabilities: Capabilities;
  logger: Logger;
  /** crib's own oom_score_adj: with restrict_oom_score_adj nothing is given less. */
  ownOOMScoreAdj: number;
  /** What each configured runtime handler supports, introspected once at start. */
  handlerFeatures: HandlerFeatureMap;
}

export type RuntimeHandlers = ServiceHandlers<typeof RuntimeService.method>;
export type ImageHandlers = ServiceHandlers<typeof ImageService.method>;
