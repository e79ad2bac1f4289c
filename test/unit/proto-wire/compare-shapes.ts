// Diff of two wire shapes of the same .proto file.
import { itemName, type WireShape } from "./wire-shape.js";

export type Difference =
  | { kind: "missing"; key: string; expected: string }
  | { kind: "changed"; key: string; expected: string; actual: string }
  | { kind: "extra"; key: string; actual: string };

/**
 * Everything in `expected` must be in `actual` with the same value. Entries only
 * in `actual` are differences too, unless an allowed item covers them: an
 * allowed message, enum or service covers its fields, values and rpcs.
 * Allowed items never excuse a missing or changed entry.
 */
export function compareShapes(expected: WireShape, actual: WireShape, allowed: Iterable<string> = []): Difference[] {
  const allowedItems = [...allowed].map(itemName);
  const covered = (key: string): boolean => {
    const item = itemName(key);
    return allowedItems.some((a) => item === a || item.startsWith(`${a}.`));
  };
  const diffs: Difference[] = [];
  for (const [key, want] of expected) {
    const got = actual.get(key);
    if (got === undefined) diffs.push({ kind: "missing", key, expected: want });
    else if (got !== want) diffs.push({ kind: "changed", key, expected: want, actual: got });
  }
  for (const [key, got] of actual) {
    if (!expected.has(key) && !covered(key)) diffs.push({ kind: "extra", key, actual: got });
  }
  return diffs;
}

export function formatDifferences(diffs: Difference[], expectedLabel: string, actualLabel: string): string {
  return diffs
    .map((d) => {
      switch (d.kind) {
        case "missing":
          return `  missing in ${actualLabel}: ${d.key} (${expectedLabel}: ${d.expected || "present"})`;
        case "changed":
          return `  differs: ${d.key}\n      ${expectedLabel}: ${d.expected}\n      ${actualLabel}: ${d.actual}`;
        case "extra":
          return `  only in ${actualLabel}, not allow-listed: ${d.key} ${d.actual}`;
      }
    })
    .join("\n");
}
