// RunPodSandbox: a pause container in its own namespaces, wired by CNI, recorded in
// containerd (container labels + metadata extension, Sandbox Store) so that a restart of
// crib loses nothing. Every step pushes its undo; a failure runs them all, newest first.
import { randomBytes } from "node:crypto";
import { ContainerEventType, type PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { invalidArgument, wrap } from "../errors.js";
import { nowNs, timestampNs } from "../clock.js";
import { jsonAny } from "../containerd/any.js";
import { resolveRuntimeHandler, runtimeOptionsAny } from "../containerd/runtime-options.js";
import { createNetns, removeNetns } from "../network/netns.js";
import { buildSandboxSpec } from "../oci/sandbox-spec.js";
import { specHostFacts } from "../oci/spec-host-facts.js";
import { readSeccompProfiles } from "../oci/seccomp-profile-files.js";
import { specOptions } from "../oci/spec-options.js";
import { OCI_SPEC_TYPE_URL } from "../oci/spec-types.js";
import type { Sandbox, SandboxMetadata } from "./sandbox-store.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";
import type { PodState } from "./pod-state.js";
import { KIND_LABEL, KIND_SANDBOX } from "../common/labels.js";
import { attachPodNetwork, detachPodNetwork, netnsDir } from "./sandbox-network.js";
import { cleanupSandboxFiles, isHostIpc, isHostNetwork, sandboxPaths, setupSandboxFiles, validateSandboxFilesConfig } from "./sandbox-files.js";
import {
  encodeSandboxMetadata,
  makeSandboxName,
  SANDBOX_METADATA_EXTENSION,
  SANDBOX_STORE_METADATA_KEY,
} from "./sandbox-metadata.js";
import { deleteContainerAndSnapshot, deleteCreatedTask, deleteTask } from "../containerd/task-ops.js";
import { removeRunRecord, writeRunRecord } from "./sandbox-run-record.js";
import { withUndo } from "../common/undo.js";
import { withRunLease } from "../containerd/run-lease.js";
import { validateRunPodSandboxRequest } from "../common/validate-config.js";

export function validateSandboxConfig(config: PodSandboxConfig | undefined): asserts config is PodSandboxConfig {
  if (!config) throw invalidArgument("sandbox config must be set");
  const md = config.metadata;
  if (!md) throw invalidArgument("sandbox config must include metadata");
  if (!md.name) throw invalidArgument("sandbox config metadata must include a name");
  if (!md.uid) throw invalidArgument("sandbox config metadata must include a uid");
  if (!md.namespace) throw invalidArgument("sandbox config metadata must include a namespace");
  validateSandboxFilesConfig(config);
  // containerd passes this on and runc fails with "unable to set hostname without a
  // private UTS namespace" (UNKNOWN); we say so up front. The kubelet sends no hostname
  // for host-network pods.
  if (isHostNetwork(config) && config.hostname !== "") {
    throw invalidArgument("hostname cannot be set for a pod that uses the host's network (and UTS) namespace");
  }
}

/** Labels of the pause container: the pod's labels, then the image's, then the kind (containerd's BuildLabels). */
export function sandboxLabels(config: PodSandboxConfig, imageLabels: Record<string, string> | undefined): Record<string, string> {
  return { ...(imageLabels ?? {}), ...config.labels, [KIND_LABEL]: KIND_SANDBOX };
}

export function runPodSandbox(deps: CriDeps, state: PodState): RuntimeHandlers["runPodSandbox"] {
  const { containerd: cd, config, logger } = deps;
  return async (req) => {
    validateSandboxConfig(req.config);
    validateRunPodSandboxRequest(req);
    const podConfig = req.config;
    const { runtime } = resolveRuntimeHandler(config, req.runtimeHandler);
    const runtimeOptions = runtimeOptionsAny(runtime);
    // Host facts (capabilities, seccomp, arch, ...) read once per process.
    const facts = await specHostFacts(config, deps.ownOOMScoreAdj);
    const sc = podConfig.linux?.securityContext;
    // The pause container runs under the pod's Localhost seccomp profile, as in containerd;
    // a missing file fails here, before anything is made.
    const seccompProfiles = await readSeccompProfiles(
      { seccomp: sc?.seccomp, seccompProfilePath: sc?.seccompProfilePath ?? "", privileged: sc?.privileged ?? false },
      specOptions(facts).unsetSeccompProfile,
    );
    const id = randomBytes(32).toString("hex");
    const name = makeSandboxName(podConfig.metadata!);
    // A second RunPodSandbox for the same metadata+attempt fails here, as in containerd.
    state.sandboxes.names.reserve(name, id);
    return withUndo(logger, { podSandboxId: id }, async (undo) => {
      undo.push("release sandbox name", async () => state.sandboxes.names.releaseByName(name));
      const image = await state.images.ensure(config.sandboxImage, { pinned: true }).catch((e) => {
        throw wrap(e, `failed to get sandbox image "${config.sandboxImage}"`);
      });
      const meta: SandboxMetadata = {
        id,
        name,
        config: podConfig,
        netnsPath: "",
        ip: "",
        additionalIps: [],
        runtimeHandler: req.runtimeHandler,
        cniResult: null,
        processLabel: "",
      };
      const storeRecord = deps.capabilities.sandboxStore;
      const saveStoreRecord = async (create: boolean) => {
        const sandbox = {
          sandboxId: id,
          runtime: { name: runtime.runtimeType, ...(runtimeOptions ? { options: runtimeOptions } : {}) },
          labels: { name },
          sandboxer: runtime.sandboxer,
          extensions: { [SANDBOX_STORE_METADATA_KEY]: encodeSandboxMetadata(meta) },
        };
        if (create) await cd.sandboxStore.create({ sandbox });
        else await cd.sandboxStore.update({ sandbox, fields: ["extensions"] });
      };
      const paths = sandboxPaths(config.rootDir, config.stateDir, id, isHostIpc(podConfig));
      const hostNetwork = isHostNetwork(podConfig);

      // The pod's network (CNI ADD, the plugins' execs) and its pause container (snapshot,
      // container, task: a shim and `runc create`) need nothing of each other but the netns,
      // so they are made at once; the pause task starts once both are there. containerd
      // runs them one after the other, the network first (its userns pods: the task first).
      // The containerd calls go out in fixed phases (Store/Create ‖ Leases/Create, then
      // Store/Update ‖ Prepare, Containers/Create, Tasks/Create, then the closing updates),
      // so the order docs/mapping.md shows is the same from run to run; every undo is pushed
      // at a fixed point too, so a failure undoes in one order. The run lease keeps the
      // fresh snapshot from containerd's GC until the container holds it.
      const created = await withRunLease(cd.leases, id, async (lease) => {
        // Phase 1: the Sandbox Store record (after a crash, what lets a start-up sweep find
        // and undo the network of a pod that never got its container), the lease, the netns
        // (one a crash leaves is swept at start-up as unused) and the pod's files.
        const storeCreated = storeRecord ? saveStoreRecord(true) : Promise.resolve();
        const netnsMade = hostNetwork
          ? Promise.resolve("")
          : createNetns(netnsDir(config)).catch((e) => {
              throw wrap(e, `failed to create network namespace for sandbox "${id}"`);
            });
        // After the netns: the helper shell runs one command at a time, and the netns is
        // needed first (the files only at Tasks/Create).
        const filesReady = netnsMade
          .catch(() => undefined)
          .then(() => setupSandboxFiles(paths, podConfig))
          .catch((e) => {
            throw wrap(e, "failed to setup sandbox files");
          });
        filesReady.catch(() => undefined);
        const [storeR, netnsR, leaseR] = await Promise.allSettled([storeCreated, netnsMade, lease.ready]);
        if (storeRecord && storeR.status === "fulfilled") undo.push("delete sandbox store record", () => cd.sandboxStore.delete({ sandboxId: id }));
        if (netnsR.status === "fulfilled" && netnsR.value) {
          meta.netnsPath = netnsR.value;
          undo.push("remove netns", () => removeNetns(meta.netnsPath));
          // The record's dir is the pod's root dir: the undo takes both away.
          if (!storeRecord) undo.push("remove run record", () => cleanupSandboxFiles(paths));
          // Plugins may allocate even when ADD fails: the teardown goes on the stack first.
          undo.push("teardown pod network", () => detachPodNetwork(config, meta));
        }
        undo.push("cleanup sandbox files", () => cleanupSandboxFiles(paths));
        for (const r of [storeR, netnsR, leaseR]) {
          if (r.status === "rejected") {
            await filesReady.catch(() => undefined);
            throw r.reason;
          }
        }
        const spec = buildSandboxSpec({
          id,
          config: podConfig,
          imageConfig: image.config,
          imageName: config.sandboxImage,
          netnsPath: meta.netnsPath,
          paths,
          seccompProfiles,
          options: facts,
        });

        // Phase 2: the record names the netns before CNI ADD, while the snapshot is prepared.
        let failed = false;
        const recorded = hostNetwork ? Promise.resolve() : storeRecord ? saveStoreRecord(false) : writeRunRecord(paths.rootDir, meta);
        undo.push("delete pause container and snapshot", () => deleteContainerAndSnapshot(cd, id, config.snapshotter, id));
        const prepared = cd.snapshots.prepare({ snapshotter: config.snapshotter, key: id, parent: image.chainId }, { lease: lease.id });
        const network = (async () => {
          if (hostNetwork) return;
          await recorded;
          await attachPodNetwork(config, meta).catch((e) => {
            throw wrap(e, `failed to setup network for sandbox "${id}"`);
          });
        })();
        const pause = (async () => {
          const [, { mounts }] = await Promise.all([recorded, prepared]);
          const record = await cd.containers.create(
            {
              container: {
                id,
                labels: sandboxLabels(podConfig, image.config.Labels),
                image: image.name,
                runtime: { name: runtime.runtimeType, ...(runtimeOptions ? { options: runtimeOptions } : {}) },
                spec: jsonAny(OCI_SPEC_TYPE_URL, spec),
                snapshotter: config.snapshotter,
                snapshotKey: id,
                extensions: { [SANDBOX_METADATA_EXTENSION]: encodeSandboxMetadata(meta) },
              },
            },
            { lease: lease.id },
          );
          await filesReady;
          if (failed) return record;
          // A task created but never started (the network failed meanwhile, or its start) is
          // killed before its delete; after a failed Tasks/Create there is only the delete to try.
          let taskCreated = false;
          undo.push("delete pause task", () => (taskCreated ? deleteCreatedTask(cd, id) : deleteTask(cd, id)));
          // The container holds the snapshot once its task exists.
          await cd.tasks.create({ containerId: id, rootfs: mounts, stdin: "", stdout: "", stderr: "", terminal: false });
          taskCreated = true;
          return record;
        })();
        network.catch(() => (failed = true));
        filesReady.catch(() => (failed = true));
        // Everything settles before anything is undone (an undo must not race a call in flight).
        const [fil, net, pau] = await Promise.allSettled([filesReady, network, pause]);
        for (const r of [fil, net, pau]) if (r.status === "rejected") throw r.reason;
        // The pause container was recorded before CNI ADD answered: it now gets the pod's IPs
        // (recovery reads them from there), before its task starts, so a crash never leaves a
        // running pod without them.
        if (!hostNetwork) {
          const update = cd.containers.update({
            container: { id, extensions: { [SANDBOX_METADATA_EXTENSION]: encodeSandboxMetadata(meta) } },
            updateMask: { paths: ["extensions"] },
          });
          const updated = await Promise.allSettled([update, storeRecord ? saveStoreRecord(false) : undefined]);
          for (const r of updated) if (r.status === "rejected") throw r.reason;
        }
        return (pau as PromiseFulfilledResult<Awaited<typeof pause>>).value;
      });
      const started = await cd.tasks.start({ containerId: id });
      // Containers/Create answered with the record: its created_at is the pod's.
      const createdAt = created.container?.createdAt;
      const sandbox: Sandbox = {
        meta,
        state: "ready",
        createdAt: timestampNs(createdAt) ?? nowNs(),
        pid: started.pid,
        imageId: image.id,
        runtimeType: runtime.runtimeType,
        stopping: false,
      };
      state.sandboxes.add(sandbox);
      // The pause container now carries the metadata: the run record has served.
      if (!storeRecord && meta.netnsPath) void removeRunRecord(paths.rootDir).catch(() => undefined);
      // containerd sends both for the sandbox itself (container_id = sandbox id).
      state.events?.emit(ContainerEventType.CONTAINER_CREATED_EVENT, id, id);
      state.events?.emit(ContainerEventType.CONTAINER_STARTED_EVENT, id, id);
      return { podSandboxId: id };
    });
  };
}
