// Counting votes the way myhero-data does: every line of votes.txt is one vote
// for the hero it names. Pure functions, so the result shapes are unit-tested.

/** Votes per hero, in the order each hero first appears (Python's Counter keeps insertion order). */
export function tally(votesFile: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of votesFile.split('\n')) {
    const hero = line.trimEnd();
    if (hero) counts.set(hero, (counts.get(hero) ?? 0) + 1);
  }
  return counts;
}

/** `GET /results`: `{"Hero": n, ...}`, keys sorted as Flask's jsonify sorts them. */
export function resultsV1(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export type V2Entry = [hero: string, votes: number, percent: number];

/**
 * `GET /v2/results`: `[[hero, votes, percent], ...]` sorted by votes, most first; ties keep their
 * first-seen order (Python's sort is stable). Percent is truncated to one decimal, so two of three
 * votes read 66.6 (as in the brief's sample), never rounded up to 66.7; `full` gives the original
 * services' full float (votes / total × 100: 66.66666666666666).
 */
export function resultsV2(counts: Map<string, number>, percent: 'truncated' | 'full' = 'truncated'): V2Entry[] {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([hero, votes]) => [hero, votes, percent === 'full' ? (votes / total) * 100 : Math.floor((votes * 1000) / total) / 10]);
}
