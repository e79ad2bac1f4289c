// crib's import rules (issue #11), checked by `make deps-check` (part of `make test`).
// docs/ARCHITECTURE.md draws the same arrows. Type-only imports count: a layer that needs a
// type from a higher one declares an interface of its own (src/containerd/trace.ts
// CallRecorder is the example).

/** The leaf libraries: they know containerd, gRPC, OCI, CNI, files, nothing of the CRI. */
const LEAVES = "^src/(containerd|rpc|io|oci|network|gen)/";
/** Everything built on top of them. */
const UPPER = "^src/(common|runtime|pod|container|image|streaming|stats|events|metrics|migrate|check|trace|server)/";

module.exports = {
  forbidden: [
    {
      name: "src-not-to-tests",
      comment: "crib ships src/: it never imports test/, bench/ or scripts/ (test clients live in test/client).",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench|scripts)/" },
    },
    {
      name: "leaves-not-upward",
      comment: "src/containerd, rpc, io, oci, network and gen are leaf libraries: they never import the CRI layers above them.",
      severity: "error",
      from: { path: LEAVES },
      to: { path: UPPER },
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
