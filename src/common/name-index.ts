// Reserves sandbox and container names so two concurrent creates of one name cannot both
// succeed; released when a create fails or the object is removed (containerd's registrar).
import { alreadyExists } from "../errors.js";

export class NameIndex {
  private readonly byName = new Map<string, string>();

  /** Reserves name for id; reserving the same pair twice is fine. */
  reserve(name: string, id: string): void {
    const owner = this.byName.get(name);
    if (owner !== undefined && owner !== id) {
      throw alreadyExists(`name "${name}" is reserved for "${owner}"`);
    }
    this.byName.set(name, id);
  }

  owner(name: string): string | undefined {
    return this.byName.get(name);
  }

  releaseByName(name: string): void {
    this.byName.delete(name);
  }
}
