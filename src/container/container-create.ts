// CreateContainer: validates the request, reserves the container's name, prepares its
// rootfs snapshot from the image under a lease, builds its OCI spec and records it as a
// containerd container carrying containerd's CRI labels and metadata extension. Every step
// pushes its undo; a failure runs them all, newest first.
//
// The kubelet retries a CreateContainer whose reply it did not get in time (its client
// deadline) with the very same request. containerd answers those retries "name is
// reserved" until the kubelet gives up; crib lets the retry join the first call and
// returns its container id, both while it runs and after it succeeded. The same name with
// a different request is still ALREADY_EXISTS.
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { equals } from "@bufbuild/protobuf";
import { ContainerConfigSchema, ContainerEventType, Signal, type ContainerConfig, type PodSandboxConfig } from "../gen/runtime/v1/api_pb.js";
import { alreadyExists, failedPrecondition, invalidArgument, isNotFound, notFound, wrap } from "../errors.js";
import { jsonAny } from "../containerd/any.js";
import { resolveRuntimeHandler, runtimeOptionsAny } from "../containerd/runtime-options.js";
import { createFifos } from "../io/fifo.js";
import { buildContainerSpec } from "../oci/container-spec.js";
import { OCI_SPEC_TYPE_URL, type OciSpec } from "../oci/spec-types.js";
import { Container, newStatus, type ContainerMetadata } from "./container-store.js";
import type { ContainerPod } from "./pod-lookup.js";
import type { LocalImage, RuntimeHandlers } from "../common/deps.js";
import { dirsOf, nowNs, type ContainerContext } from "./container-context.js";
import { containerLabels, CONTAINER_METADATA_EXTENSION, encodeContainerMetadata, makeContainerName } from "./container-metadata.js";
import { resourcesFromSpec } from "./container-resources.js";
import { criSignalToOci } from "./container-signals.js";
import { gatherSpecInputs, validateCriMounts } from "./container-spec-inputs.js";
import { containerFifos } from "./container-start.js";
import { splitImageReferences } from "./container-status.js";
import { withUndo, type UndoStack } from "../common/undo.js";
import { withRunLease, type RunLease } from "../containerd/run-lease.js";
import { validateCreateContainerRequest } from "../common/validate-config.js";
import { validationHostFacts } from "../common/validate-host-facts.js";

export function validateContainerConfig(config: ContainerConfig | undefined): asserts config is ContainerConfig {
  if (!config) throw invalidArgument("container config must be set");
  if (!config.metadata) throw invalidArgument("container config must include metadata");
  if (!config.metadata.name) throw invalidArgument("container config metadata must include a name");
  if (!config.image?.image) throw invalidArgument("container config must include an image");
  criSignalToOci(config.stopSignal);
  validateCriMounts(config);
}

/**
 * The container's log file: log_path under the pod's log_directory, which it must not
 * leave ("../../etc/x" would let a pod spec write any host file). "" when either is unset
 * (containerd then disables logging).
 */
export function composeLogPath(logDirectory: string, logPath: string): string {
  if (logDirectory === "" || logPath === "") return "";
  const full = join(logDirectory, logPath);
  const rel = relative(logDirectory, full);
  if (rel === "" || rel === ".." || rel.startsWith("../") || isAbsolute(rel)) {
    throw invalidArgument(`log path "${logPath}" escapes the pod log directory "${logDirectory}"`);
  }
  return full;
}

const sameRequest = (a: { sandboxId: string; config: ContainerConfig }, sandboxId: string, config: ContainerConfig) =>
  a.sandboxId === sandboxId && equals(ContainerConfigSchema, a.config, config);

/** The id of the call a retried CreateContainer joins, if it is one; ALREADY_EXISTS for a clash. */
async function joinRetry(ctx: ContainerContext, name: string, sandboxId: string, config: ContainerConfig): Promise<string | undefined> {
  const inflight = ctx.creating.get(name);
  if (inflight) {
    if (!sameRequest(inflight, sandboxId, config)) throw alreadyExists(`failed to reserve container name "${name}": name "${name}" is reserved for "${inflight.id}"`);
    return inflight.result;
  }
  const live = ctx.containers.byName(name);
  if (live) {
    if (!sameRequest({ sandboxId: live.meta.sandboxId, config: live.meta.config }, sandboxId, config))
      throw alreadyExists(`failed to reserve container name "${name}": name "${name}" is reserved for "${live.id}"`);
    return live.id;
  }
  return undefined;
}

interface CreateArgs {
  id: string;
  name: string;
  config: ContainerConfig;
  sandbox: ContainerPod;
  sandboxConfig: PodSandboxConfig;
  image: LocalImage;
  logPath: string;
}

/** The first rejection among settled results, in the order given (the cause before its echoes). */
function firstFailure(results: PromiseSettledResult<unknown>[]): unknown {
  for (const r of results) if (r.status === "rejected") return r.reason;
  return undefined;
}

async function createContainerRecord(ctx: ContainerContext, a: CreateArgs, undo: UndoStack): Promise<Container> {
  const cd = ctx.deps.containerd;
  const cfg = ctx.deps.config;
  const { id, config, sandbox, image } = a;
  const { runtime } = resolveRuntimeHandler(cfg, sandbox.meta.runtimeHandler);
  const runtimeOptions = runtimeOptionsAny(runtime);
  const runtimeType = sandbox.runtimeType || runtime.runtimeType;
  const { tags, digests } = splitImageReferences(image.references);
  const meta: ContainerMetadata = {
    id,
    name: a.name,
    sandboxId: sandbox.meta.id,
    config,
    imageRef: image.id,
    imageName: tags[0] ?? digests[0] ?? image.name,
    logPath: a.logPath,
    stopSignal: config.stopSignal !== Signal.RUNTIME_DEFAULT ? criSignalToOci(config.stopSignal) : (image.config.StopSignal ?? ""),
    processLabel: "",
  };
  const dirs = dirsOf(ctx, id);
  undo.push("remove container dirs", async () => {
    await rm(dirs.root, { recursive: true, force: true });
    await rm(dirs.volatile, { recursive: true, force: true });
  });

  // Everything below runs at once where it can, and all of it settles before anything is
  // undone (an undo must not race a call still in flight).
  //
  // The image's passwd/group are the same in every container of the image: read from the
  // first one's snapshot, then known beforehand. For that first container the snapshot
  // comes first (Prepare, then the spec, then Containers/Create), and the run lease keeps
  // the fresh snapshot from containerd's GC until the container holds it. Once they are
  // known, Containers/Create goes first, as soon as the spec is built, and Prepare right
  // after it: the container names its snapshot key before the snapshot exists, so the
  // snapshot is never without a GC root and no lease is needed. containerd's CRI makes and
  // deletes a lease in every CreateContainer (client.NewContainer); without it the call is
  // two metadata commits shorter. A crash between the two calls leaves a container without
  // a snapshot, which RemoveContainer removes like any other (Snapshots/Remove: NotFound).
  const knownUserFiles = ctx.userFiles.get(cfg.snapshotter, image.chainId);
  const step = async (run: RunLease | undefined) => {
    const leased = run?.ready ?? Promise.resolve();
    const leaseOpt = run ? { lease: run.id } : {};
    const dirsMade = Promise.all([mkdir(dirs.root, { recursive: true, mode: 0o755 }), mkdir(dirs.volatile, { recursive: true, mode: 0o755 })]);
    // FIFOs from the pool (a mkfifo process when it is empty), made while containerd prepares the snapshot.
    const fifosReady = createFifos(containerFifos(ctx, id, config), ctx.fifos, { fresh: true });
    const prepare = () =>
      cd.snapshots.prepare({ snapshotter: cfg.snapshotter, key: id, parent: image.chainId }, leaseOpt).catch((e) => {
        throw wrap(e, `failed to prepare snapshot for container "${id}"`);
      });
    const preparedFirst = knownUserFiles ? undefined : leased.then(prepare);
    const userFiles = knownUserFiles ? Promise.resolve(knownUserFiles) : preparedFirst!.then((p) => ctx.userFiles.read(cfg.snapshotter, image.chainId, p.mounts));
    userFiles.catch(() => undefined); // a failed Prepare is reported from `prepared`
    const specBuilt: Promise<OciSpec> = (async () => {
      await dirsMade;
      const input = await gatherSpecInputs(ctx, { id, config, sandbox, sandboxConfig: a.sandboxConfig, image, userFiles, containerRootDir: dirs.root });
      return buildContainerSpec(input);
    })();
    const statusMade = specBuilt.then((spec) => {
      const status = newStatus(nowNs());
      status.resources = resourcesFromSpec(spec);
      return status;
    });
    const checkpointed = statusMade.then((status) => ctx.containers.checkpointNew(id, status));
    const recorded = (async () => {
      const spec = await specBuilt;
      // The FIFOs exist before containerd records the container that names them.
      await fifosReady;
      await leased;
      await cd.containers
        .create(
          {
            container: {
              id,
              labels: containerLabels(config.labels, image.config.Labels),
              image: image.name,
              runtime: { name: runtimeType, ...(runtimeOptions ? { options: runtimeOptions } : {}) },
              spec: jsonAny(OCI_SPEC_TYPE_URL, spec),
              snapshotter: cfg.snapshotter,
              snapshotKey: id,
              sandbox: sandbox.meta.id,
              extensions: { [CONTAINER_METADATA_EXTENSION]: encodeContainerMetadata(meta) },
            },
          },
          leaseOpt,
        )
        .catch((e) => {
          throw wrap(e, "failed to create containerd container");
        });
    })();

    const prepared = preparedFirst ?? recorded.then(prepare);
    const [leaseR, dirsR, fifosR, prepR, specR, recR, ckptR] = await Promise.allSettled([leased, dirsMade, fifosReady, prepared, specBuilt, recorded, checkpointed]);
    if (prepR.status === "fulfilled")
      undo.push("remove snapshot", () =>
        cd.snapshots.remove({ snapshotter: cfg.snapshotter, key: id }).catch((e) => {
          if (!isNotFound(e)) throw e;
        }),
      );
    if (recR.status === "fulfilled")
      undo.push("delete containerd container", () =>
        cd.containers.delete({ id }).catch((e) => {
          if (!isNotFound(e)) throw e;
        }),
      );
    // Any of these failing means the container does not hold its snapshot (withRunLease
    // then waits for the lease to go).
    const failure = firstFailure([leaseR, dirsR, fifosR, recR, prepR, specR]);
    if (failure !== undefined) throw failure;
    return { spec: (specR as PromiseFulfilledResult<OciSpec>).value, status: await statusMade, checkpointed: ckptR };
  };
  const { spec, status, checkpointed } = knownUserFiles ? await step(undefined) : await withRunLease(cd.leases, id, step);
  if (checkpointed.status === "rejected") throw wrap(checkpointed.reason, "failed to checkpoint container status");
  const c = new Container(meta, status, { spec, snapshotter: cfg.snapshotter, snapshotKey: id, runtimeType, runtimeOptions });
  c.cgroupMayBeLeft = false;
  return c;
}

export function createContainer(ctx: ContainerContext): RuntimeHandlers["createContainer"] {
  return async (req) => {
    validateCreateContainerRequest(req, await validationHostFacts());
    validateContainerConfig(req.config);
    const config = req.config;
    const sandbox = ctx.state.sandboxes.find(req.podSandboxId);
    if (!sandbox) throw notFound(`failed to find sandbox id "${req.podSandboxId}": not found`);
    // The kubelet sends the pod's config along; the stored one serves clients that do not.
    const sandboxConfig = req.sandboxConfig?.metadata ? req.sandboxConfig : sandbox.meta.config;
    const name = makeContainerName(config.metadata!, sandboxConfig.metadata!);
    const logPath = composeLogPath(sandboxConfig.logDirectory, config.logPath);

    const joined = await joinRetry(ctx, name, sandbox.meta.id, config);
    if (joined !== undefined) return { containerId: joined };

    if (sandbox.state !== "ready" || sandbox.pid === 0) throw failedPrecondition(`sandbox "${sandbox.meta.id}" is not ready`);
    const image = ctx.state.images.resolve(config.image!.image);
    if (!image) throw notFound(`failed to resolve image "${config.image!.image}": not found`);

    const id = randomBytes(32).toString("hex");
    ctx.containers.names.reserve(name, id);
    let settle!: { resolve: (id: string) => void; reject: (e: unknown) => void };
    const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
    result.catch(() => undefined);
    ctx.creating.set(name, { id, sandboxId: sandbox.meta.id, config, result });
    try {
      await withUndo(ctx.deps.logger, { containerId: id }, async (undo) => {
        // Runs last on failure, unless a retry's container took the name over meanwhile.
        undo.push("release container name", async () => {
          if (ctx.containers.names.owner(name) === id) ctx.containers.names.releaseByName(name);
        });
        const c = await createContainerRecord(ctx, { id, name, config, sandbox, sandboxConfig, image, logPath }, undo);
        ctx.containers.add(c);
        ctx.state.events?.emit(ContainerEventType.CONTAINER_CREATED_EVENT, id, sandbox.meta.id);
      });
      settle.resolve(id);
      return { containerId: id };
    } catch (e) {
      settle.reject(e);
      throw e;
    } finally {
      ctx.creating.delete(name);
    }
  };
}
