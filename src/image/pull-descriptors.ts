// What a Transfer pull's progress events tell besides progress, so that crib need not ask
// containerd again: containerd's progress tracker sends a "waiting" event with the
// descriptor of every blob the pull dispatches, and the root one (the descriptor the
// reference resolved to, which the ImageStore stores as the image's target) has the
// reference itself as its only parent. Pure.
import type { Descriptor } from "./image-info.js";

/** The config media type of distribution#1622: containerd then stores a converted manifest. */
export const LEGACY_CONFIG_MEDIA_TYPE = "application/octet-stream";

export interface DescriptorEvent {
  event: string;
  parents: readonly string[];
  desc: Descriptor | undefined;
}

export class PulledDescriptors {
  private readonly seen = new Map<string, Descriptor>();
  private readonly roots = new Map<string, Descriptor>();

  constructor(private readonly ref: string) {}

  handle(e: DescriptorEvent): void {
    const d = e.desc;
    if (!d) return;
    if (!this.seen.has(d.digest)) this.seen.set(d.digest, d);
    if (e.event === "waiting" && e.parents.length === 1 && e.parents[0] === this.ref) this.roots.set(d.digest, d);
  }

  /** Every blob descriptor seen, first sighting first. */
  descriptors(): Descriptor[] {
    return [...this.seen.values()];
  }

  /**
   * The image's target, when the events name exactly one root; undefined otherwise (an
   * unknown event shape, a lost event) and whenever a legacy config was seen, since
   * containerd then stores a converted manifest instead of the resolved one.
   */
  target(): Descriptor | undefined {
    if (this.roots.size !== 1) return undefined;
    for (const d of this.seen.values()) if (d.mediaType === LEGACY_CONFIG_MEDIA_TYPE) return undefined;
    return [...this.roots.values()][0];
  }
}
