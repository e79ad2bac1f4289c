// The one wiring style of crib's features (issue 11): each feature folder exports one
// factory, `xFeature(deps, uses)`, taking crib's CriDeps and typed handles to the lower
// features it uses (their `api`), and returning a Feature. src/server/handlers.ts is the
// composition root: it builds the features bottom-up, starts and stops them in crib's
// order and merges their handlers. A factory may await what building needs (loading the
// image store, binding a listener); start() holds the work that must follow the features
// built before it (recovery, attaching to the stores).
import type { ImageHandlers, RuntimeHandlers } from "./deps.js";

export interface Feature<Api = undefined> {
  /** The RuntimeService RPCs this feature serves. */
  runtime: Partial<RuntimeHandlers>;
  /** The ImageService RPCs this feature serves. */
  image: Partial<ImageHandlers>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What the features above may use. */
  api: Api;
}

/** For features with nothing to start or stop. */
export const nothing = async (): Promise<void> => undefined;
