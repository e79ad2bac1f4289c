// crib's import rules (issue #11), checked by `make deps-check` (part of `make test`).
// docs/ARCHITECTURE.md draws the same arrows. Type-only imports count: a layer that needs a
// type from a higher one declares an interface of its own (src/containerd/trace.ts
// CallRecorder and src/container/pod-lookup.ts PodLookup are the examples).

/**
 * src's folders, top to bottom. A folder imports only folders of the layers below its own
 * (never its own layer's other folders), so the folder graph has no cycle and every arrow
 * points down. Above them all sits src/main.ts; below them all the root files (config,
 * errors, log, clock, timer-limit, package-info), which import no folder.
 */
const LAYERS = [
  ["server"], // the composition root
  ["metrics", "migrate", "check"],
  ["streaming", "stats", "events", "runtime"], // features over pods and containers
  ["pod"], // stops and removes its containers through container's API
  ["container"], // reads pods through its own PodLookup interface
  ["image", "trace"],
  ["common"], // shared CRI pieces: deps, the Feature shape, validation, labels
  ["oci", "network"], // leaf libraries: no CRI feature knowledge from here down
  ["containerd", "io"],
  ["rpc"],
  ["gen"],
];

const alt = (folders) => `^src/(${folders.join("|")})/`;
const ALL = LAYERS.flat();

/** Layer i's folders never import a folder of layers 0..i-1, nor src/main.ts. */
const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer.join("-")}-not-up`,
  comment: `src/{${layer.join(",")}} imports only the layers below it (${LAYERS.slice(i + 1).map((l) => l.join(",")).join(" > ") || "the root files"}).`,
  severity: "error",
  from: { path: alt(layer) },
  to: { path: i === 0 ? "^src/main\\.ts$" : `${alt(LAYERS.slice(0, i).flat())}|^src/main\\.ts$` },
}));

/** Folders sharing a layer do not import each other (that would allow a folder cycle). */
const siblingRules = LAYERS.filter((layer) => layer.length > 1).map((layer) => ({
  name: `layer-${layer.join("-")}-no-sideways`,
  comment: `src/{${layer.join(",")}} share a layer: none imports another.`,
  severity: "error",
  from: { path: alt(layer) },
  to: { path: alt(layer), pathNot: "^src/$1/" },
}));

module.exports = {
  forbidden: [
    {
      name: "src-not-to-tests",
      comment: "crib ships src/: it never imports test/, bench/ or scripts/ (test clients live in test/client).",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench|scripts)/" },
    },
    ...layerRules,
    ...siblingRules,
    {
      name: "folder-in-a-layer",
      comment: "Every folder of src has its place in LAYERS above; a new one is added there (and to docs/ARCHITECTURE.md).",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^src/[^/]+/", pathNot: alt(ALL) },
    },
    {
      name: "folder-in-a-layer-from",
      comment: "Every folder of src has its place in LAYERS above; a new one is added there (and to docs/ARCHITECTURE.md).",
      severity: "error",
      from: { path: "^src/[^/]+/", pathNot: alt(ALL) },
      to: { path: "^src/" },
    },
    {
      name: "root-files-are-the-floor",
      comment: "src/config.ts, errors.ts, log.ts, clock.ts, timer-limit.ts and package-info.ts are below every folder: they import none (src/main.ts is the top).",
      severity: "error",
      from: { path: "^src/[^/]+\\.ts$", pathNot: "^src/main\\.ts$" },
      to: { path: "^src/[^/]+/|^src/main\\.ts$" },
    },
    {
      name: "server-only-from-main",
      comment: "src/server wires everything together: only src/main.ts starts it (tests and the in-process benchmark too).",
      severity: "error",
      from: { pathNot: "^(src/main\\.ts|src/server/|test/|bench/)" },
      to: { path: "^src/server/" },
    },
    {
      name: "no-circular",
      comment: "No import cycles between files in src (there are none today; a new one fails).",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "src-resolvable",
      comment: "An import the checker cannot resolve would escape every rule above.",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports are dependencies too.
    tsPreCompilationDeps: true,
    // Maps the NodeNext ".js" specifiers onto the .ts files.
    tsConfig: { fileName: "tsconfig.json" },
    // Package subpath exports (@bufbuild/protobuf/wire) resolve as Node resolves them.
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
