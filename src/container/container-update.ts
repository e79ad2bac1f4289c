// UpdateContainerResources: new limits go into the stored spec first (a container not yet
// started gets them at start), then to the running task. The two stay consistent: if the
// task refuses them, the old spec is put back and the call fails (containerd's rollback).
import { ContainerState } from "../gen/runtime/v1/api_pb.js";
import type { LinuxContainerResources } from "../gen/runtime/v1/api_pb.js";
import { failedPrecondition, isNotFound, wrap } from "../errors.js";
import { jsonAny } from "../containerd/any.js";
import { applyCriResources } from "../oci/resources.js";
import { specOptions } from "../oci/spec-options.js";
import { OCI_LINUX_RESOURCES_TYPE_URL, OCI_SPEC_TYPE_URL, type OciSpec } from "../oci/spec-types.js";
import type { Container } from "./container-store.js";
import type { RuntimeHandlers } from "../common/deps.js";
import type { ContainerContext } from "./container-context.js";
import { specHostFacts } from "../oci/spec-host-facts.js";
import { resourcesFromSpec } from "./container-resources.js";
import { validateUpdateContainerResourcesRequest } from "../common/validate-config.js";
import { validationHostFacts } from "../common/validate-host-facts.js";

async function storeSpec(ctx: ContainerContext, id: string, spec: OciSpec): Promise<void> {
  await ctx.deps.containerd.containers.update({ container: { id, spec: jsonAny(OCI_SPEC_TYPE_URL, spec) }, updateMask: { paths: ["spec"] } }).catch((e) => {
    throw wrap(e, "failed to update container spec");
  });
}

export async function updateContainerResourcesNow(ctx: ContainerContext, c: Container, linux: LinuxContainerResources | undefined): Promise<void> {
  await c.withLock(async () => {
    if (c.status.removing) throw failedPrecondition(`container "${c.id}" is in removing state`);
    const oldSpec = c.record.spec;
    const newSpec: OciSpec = structuredClone(oldSpec);
    newSpec.linux ??= {};
    const facts = specOptions(await specHostFacts(ctx.deps.config, ctx.deps.ownOOMScoreAdj));
    const resources = applyCriResources(newSpec.linux.resources, linux, facts);
    if (resources) newSpec.linux.resources = resources;
    await storeSpec(ctx, c.id, newSpec);
    try {
      if (c.state === ContainerState.CONTAINER_RUNNING) {
        await ctx.deps.containerd.tasks
          .update({ containerId: c.id, resources: jsonAny(OCI_LINUX_RESOURCES_TYPE_URL, newSpec.linux.resources ?? {}) })
          .catch((e) => {
            // The task exited meanwhile: the spec alone is what matters now.
            if (!isNotFound(e)) throw wrap(e, "failed to update resources");
          });
      }
    } catch (e) {
      await storeSpec(ctx, c.id, oldSpec).catch((err) =>
        ctx.deps.logger.error("failed to restore container spec after a failed update", { containerId: c.id, error: (err as Error).message }),
      );
      throw e;
    }
    c.record.spec = newSpec;
    await ctx.containers.updateSync(c, (s) => {
      s.resources = resourcesFromSpec(newSpec);
    });
  });
}

export function updateContainerResources(ctx: ContainerContext): RuntimeHandlers["updateContainerResources"] {
  return async (req) => {
    validateUpdateContainerResourcesRequest(req, await validationHostFacts());
    const c = ctx.containers.get(req.containerId);
    // containerd refuses updates for containers whose pod is gone.
    ctx.state.sandboxes.get(c.meta.sandboxId);
    await updateContainerResourcesNow(ctx, c, req.linux).catch((e) => {
      throw wrap(e, "failed to update resources");
    });
    return {};
  };
}
