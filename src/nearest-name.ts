import { distance } from "fastest-levenshtein";

/**
 * The name among `known` that `given` most likely meant, for a "did you mean": equal ignoring case, or at
 * most two edits away and no more than half of the known name (so "qa" does not suggest "dev", nor "x"
 * "org"). Between equally close names the first wins. Null when none is close.
 */
export function nearestName(given: string, known: readonly string[]): string | null {
  const wanted = given.toLowerCase();
  let best: { name: string; distance: number } | null = null;
  for (const name of known) {
    const d = distance(wanted, name.toLowerCase());
    if (d > 2 || d > Math.floor(name.length / 2)) continue;
    if (!best || d < best.distance) best = { name, distance: d };
  }
  return best?.name ?? null;
}
