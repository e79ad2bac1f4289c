// The platform crib pulls and unpacks for, and which manifest of an index serves it, as
// containerd's platforms.Only(platforms.DefaultSpec()) chooses: same OS, the host's
// architecture first, then what the host also runs (amd64 runs 386, arm64 runs arm).

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_TO_GO_ARCH: Record<string, string> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips64el: "mips64le",
};

export function hostPlatform(arch: string = process.arch): Platform {
  const architecture = NODE_TO_GO_ARCH[arch] ?? arch;
  // containerd's DefaultSpec reports arm64 as v8 and 32-bit arm by the CPU; v7 is the common case.
  if (architecture === "arm64") return { os: "linux", architecture, variant: "v8" };
  if (architecture === "arm") return { os: "linux", architecture, variant: "v7" };
  return { os: "linux", architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((s) => s).join("/");
}

/** Architectures (with variants, best first) a host platform runs, as platforms.Only orders them. */
function compatible(host: Platform): Platform[] {
  const os = host.os;
  switch (host.architecture) {
    case "amd64":
      return [{ os, architecture: "amd64" }, { os, architecture: "386" }];
    case "arm64":
      return [
        { os, architecture: "arm64", variant: "v8" },
        { os, architecture: "arm", variant: "v8" },
        { os, architecture: "arm", variant: "v7" },
        { os, architecture: "arm", variant: "v6" },
        { os, architecture: "arm", variant: "v5" },
      ];
    case "arm": {
      const order = ["v8", "v7", "v6", "v5"];
      const from = Math.max(0, order.indexOf(host.variant ?? "v7"));
      return order.slice(from).map((variant) => ({ os, architecture: "arm", variant }));
    }
    default:
      return [{ os, architecture: host.architecture }];
  }
}

/** containerd normalises arm64 without a variant to v8 and amd64 variants are all amd64. */
function normalize(p: Platform): Platform {
  const os = p.os.toLowerCase();
  const architecture = p.architecture.toLowerCase();
  if (architecture === "arm64" && !p.variant) return { os, architecture, variant: "v8" };
  if (architecture === "amd64") return { os, architecture };
  return p.variant ? { os, architecture, variant: p.variant } : { os, architecture };
}

/** Rank of a candidate for the host (lower is better), or -1 when the host cannot run it. */
export function platformRank(host: Platform, candidate: Platform): number {
  const c = normalize(candidate);
  const list = compatible(normalize(host));
  for (let i = 0; i < list.length; i++) {
    const want = list[i]!;
    if (c.os !== want.os || c.architecture !== want.architecture) continue;
    // An arm manifest without a variant runs on any arm.
    if (want.variant === undefined || c.variant === undefined || c.variant === want.variant) return i;
  }
  return -1;
}

/**
 * The entry of an index the host should use: entries without a platform match anything,
 * but platform-specific ones that match rank before them (images.Manifest's order).
 */
export function chooseManifest<T extends { platform?: Platform | undefined }>(host: Platform, entries: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestRank = Infinity;
  for (const e of entries) {
    const rank = e.platform ? platformRank(host, e.platform) : 1000;
    if (rank < 0) continue;
    if (rank < bestRank) {
      best = e;
      bestRank = rank;
    }
  }
  return best;
}
