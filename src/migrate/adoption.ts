// Judges an inventory (pure): which pods and containers crib would adopt with all their
// state, and what of the others would not carry over, as the start-up recovery would
// treat them. Files missing from crib's dirs are what is lost: containerd keeps a pod's
// hostname/hosts/resolv.conf and shm, and each container's status checkpoint, under its
// CRI plugin's dirs, and crib reads them only when it is started on those dirs.
import { join } from "node:path";
import type { ContainerFacts, Inventory, PodFacts } from "./inventory.js";

export interface Loss {
  kind: "pod" | "container";
  id: string;
  name: string;
  lost: string[];
}

export interface Assessment {
  /** Records adopted with everything they have. */
  full: { pods: number; containers: number };
  losses: Loss[];
  /** Pods none of whose files are under crib's root_dir: made by someone else. */
  foreignPods: PodFacts[];
  /** containerd's CRI dirs hold what crib's dirs lack: crib should be started on them. */
  criDirsHoldMore: boolean;
}

const sameDirs = (inv: Inventory) => inv.crib.root === inv.cri.root && inv.crib.state === inv.cri.state;

function podLosses(inv: Inventory, p: PodFacts): string[] {
  if (p.filesIn.crib) return [];
  const lost = [
    `hostname, hosts and resolv.conf (not in ${join(inv.crib.root, "sandboxes", p.id)}): containers created in the pod later get no /etc/hostname, /etc/hosts, /etc/resolv.conf from it`,
  ];
  if (!p.hostIpc) lost.push(`its /dev/shm mount: removing the pod leaves the mount and its dirs behind`);
  return lost;
}

function containerLosses(inv: Inventory, c: ContainerFacts): string[] {
  if (c.statusIn.crib) return [];
  const what = c.task === "running" ? "its start time" : "its exit code, reason and times";
  return [`status checkpoint (not in ${join(inv.crib.root, "containers", c.id)}): shown as CONTAINER_UNKNOWN, ${what} lost`];
}

export function assessAdoption(inv: Inventory): Assessment {
  const losses: Loss[] = [];
  let pods = 0;
  let containers = 0;
  for (const p of inv.pods) {
    const lost = podLosses(inv, p);
    if (lost.length) losses.push({ kind: "pod", id: p.id, name: p.name, lost });
    else pods++;
  }
  for (const c of inv.containers) {
    const lost = containerLosses(inv, c);
    if (lost.length) losses.push({ kind: "container", id: c.id, name: c.name, lost });
    else containers++;
  }
  const criDirsHoldMore =
    !sameDirs(inv) && (inv.pods.some((p) => !p.filesIn.crib && p.filesIn.cri) || inv.containers.some((c) => !c.statusIn.crib && c.statusIn.cri));
  return { full: { pods, containers }, losses, foreignPods: inv.pods.filter((p) => !p.filesIn.crib), criDirsHoldMore };
}

/** The flags that start crib on containerd's CRI dirs. */
export function criDirFlags(inv: Inventory): string {
  return `--namespace ${inv.namespace} --root-dir ${inv.cri.root} --state-dir ${inv.cri.state}`;
}

/** Why crib refuses to start, or undefined when every pod is crib's to adopt whole. */
export function refusalReason(inv: Inventory, a: Assessment): string | undefined {
  if (a.foreignPods.length === 0) return undefined;
  const names = a.foreignPods
    .slice(0, 5)
    .map((p) => `${p.name} (${p.id.slice(0, 13)})`)
    .join(", ");
  const more = a.foreignPods.length > 5 ? ` and ${a.foreignPods.length - 5} more` : "";
  const hint = a.criDirsHoldMore
    ? `containerd's CRI dirs hold their files: start crib with ${criDirFlags(inv)}`
    : `start crib on the dirs that hold their files`;
  return (
    `${a.foreignPods.length} pod(s) in namespace ${inv.namespace} have no files under root_dir ${inv.crib.root}: ${names}${more}. ` +
    `Adopted from here their containers would show CONTAINER_UNKNOWN with exit codes and times lost, new containers would miss the pod's hostname/hosts/resolv.conf, and removal would leave the pod's shm mount behind. ` +
    `${hint}; see \`crib migrate check\` and docs/MIGRATION.md; or pass --adopt-partial (config adopt_partial = true) to adopt them anyway`
  );
}

function shortId(id: string): string {
  return id.slice(0, 13);
}

export interface ReportContext {
  containerdAddress: string;
  containerdVersion: string;
  criPluginLoaded: boolean;
}

/** The text `crib migrate check` prints. */
export function formatReport(inv: Inventory, a: Assessment, ctx: ReportContext): string {
  const out: string[] = [];
  out.push(`containerd ${ctx.containerdVersion} at ${ctx.containerdAddress}, namespace ${inv.namespace}`);
  out.push(`crib dirs:              root_dir ${inv.crib.root}, state_dir ${inv.crib.state}`);
  out.push(`containerd's CRI dirs:  ${inv.cri.root}, ${inv.cri.state}`);
  out.push("");
  out.push(`pods (${inv.pods.length}):`);
  for (const p of inv.pods) {
    const files = p.filesIn.crib ? "files in crib's dirs" : p.filesIn.cri ? "files in containerd's CRI dirs only" : "files nowhere";
    out.push(`  ${shortId(p.id)}  ${p.name}  ${p.task === "running" ? "ready" : "not ready"}  ${files}`);
  }
  out.push(`containers (${inv.containers.length}):`);
  for (const c of inv.containers) {
    const status = c.statusIn.crib ? "status in crib's dirs" : c.statusIn.cri ? "status in containerd's CRI dirs only" : "no status checkpoint";
    out.push(`  ${shortId(c.id)}  ${c.name}  task ${c.task}  pod ${shortId(c.podId)}  ${status}`);
  }
  for (const id of inv.unreadable) out.push(`  ${shortId(id)}  (no readable CRI metadata: not adopted)`);
  out.push("");
  out.push(`would adopt fully: ${a.full.pods} pod(s), ${a.full.containers} container(s)`);
  if (a.losses.length === 0 && inv.unreadable.length === 0) out.push("would not carry over: nothing");
  else {
    out.push("would not carry over:");
    for (const l of a.losses) for (const what of l.lost) out.push(`  ${l.kind} ${shortId(l.id)} ${l.name}: ${what}`);
    for (const id of inv.unreadable) out.push(`  ${shortId(id)}: no readable CRI metadata, left alone`);
  }
  out.push("");
  if (ctx.criPluginLoaded) {
    out.push("containerd's own CRI plugin is loaded: stop the kubelet, restart containerd with the CRI plugins in disabled_plugins, then start crib (crib refuses to serve next to it).");
  }
  if (a.foreignPods.length > 0) {
    out.push(`crib would refuse to start on root_dir ${inv.crib.root} (pods whose files are elsewhere) unless given --adopt-partial.`);
  }
  if (a.criDirsHoldMore) out.push("containerd's CRI dirs hold what crib's dirs lack: start crib on them.");
  out.push(`flags to start crib on containerd's CRI dirs: ${criDirFlags(inv)}`);
  return out.join("\n") + "\n";
}
