// UpdatePodSandboxResources (cri-api v0.33, in-place pod resize): the kubelet reports the
// pod's new resources after resizing the pod cgroup. crib writes them to the pod cgroup
// too (see sandbox-cgroup-resources.ts) and records them, as containerd's CRI does, in the
// Sandbox Store record's "updated-resources" extension ({"Overhead":..,"Resources":..}
// under containerd's typeurl for podsandbox.UpdatedResources), so each can read the
// other's. The kubelet treats a failure as best effort and goes on with the resize.
import { access } from "node:fs/promises";
import { join } from "node:path";
import { LinuxContainerResourcesSchema, type LinuxContainerResources } from "../gen/runtime/v1/api_pb.js";
import { jsonAny } from "../containerd/any.js";
import { messageToGo } from "../containerd/go-json.js";
import { wrap } from "../errors.js";
import { CGROUP_ROOT, detectCgroupMode } from "../common/cgroup-mode.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import type { PodState } from "./pod-state.js";
import { applyCgroupWrites, podCgroupWrites, validatePodResources } from "./sandbox-cgroup-resources.js";

/** containerd: podsandbox.UpdatedResourcesKey and the typeurl it registers UpdatedResources under. */
export const UPDATED_RESOURCES_KEY = "updated-resources";
export const UPDATED_RESOURCES_TYPE_URL = "io.containerd.cri.v1/UpdatedResources";

const goResources = (r: LinuxContainerResources | undefined) => (r ? messageToGo(LinuxContainerResourcesSchema, r as unknown as Record<string, unknown>) : null);

/** The extension's value, as Go's encoding/json writes podsandbox.UpdatedResources. */
export function updatedResourcesJson(overhead: LinuxContainerResources | undefined, resources: LinuxContainerResources | undefined) {
  return { Overhead: goResources(overhead), Resources: goResources(resources) };
}

export function updatePodSandboxResources(deps: CriDeps, state: PodState, cgroupRoot = CGROUP_ROOT): RuntimeHandlers["updatePodSandboxResources"] {
  const cd = deps.containerd;
  return async (req) => {
    const sandbox = state.sandboxes.get(req.podSandboxId);
    validatePodResources("overhead", req.overhead);
    validatePodResources("resources", req.resources);
    const parent = sandbox.meta.config.linux?.cgroupParent ?? "";
    if (parent) {
      const mode = await detectCgroupMode(cgroupRoot);
      const writes = podCgroupWrites(mode, req.resources, req.overhead);
      // A pod cgroup that does not exist (a systemd-style parent, or removed) is left to whoever owns it.
      const dir = join(cgroupRoot, mode === "v1" ? "cpu" : "", parent.replace(/^\/+/, ""));
      const exists = await access(dir).then(
        () => true,
        () => false,
      );
      if (exists) await applyCgroupWrites(cgroupRoot, parent, writes);
      else deps.logger.debug("pod cgroup not found: limits not written", { podSandboxId: sandbox.meta.id, cgroupParent: parent });
    }
    if (deps.capabilities.sandboxStore) {
      const got = await cd.sandboxStore.get({ sandboxId: sandbox.meta.id }).catch((e) => {
        throw wrap(e, `failed to get sandbox ${sandbox.meta.id} from sandbox store`);
      });
      const record = got.sandbox!;
      record.extensions[UPDATED_RESOURCES_KEY] = jsonAny(UPDATED_RESOURCES_TYPE_URL, updatedResourcesJson(req.overhead, req.resources));
      await cd.sandboxStore.update({ sandbox: record, fields: [`extensions.${UPDATED_RESOURCES_KEY}`] }).catch((e) => {
        throw wrap(e, `failed to update sandbox ${sandbox.meta.id} in core store`);
      });
    }
    return {};
  };
}
