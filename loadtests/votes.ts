import { BODIES } from '../lib/defaults.ts';

// What a myhero answer means for the vote count, with no dependency beyond the
// brief's facts, so the Node runner (accounting.ts) and the k6 bundle
// (k6/lib/) share one definition.

/** What a 200 answer to POST /vote/<hero> says: myhero answers a failed vote with 200 too. */
export function voteBodyOutcome(body: string): 'accepted' | 'vote_failed' | 'other' {
  let result: unknown;
  try {
    result = (JSON.parse(body) as { result?: unknown } | null)?.result;
  } catch {
    return 'other';
  }
  if (result === BODIES.voteSubmitted.result) return 'accepted';
  if (result === BODIES.voteFailed.result) return 'vote_failed';
  return 'other';
}

/** Total votes in a parsed `/v2/results` answer: `[[hero, votes, percent], ...]`. */
export function totalVotes(results: unknown): number {
  if (!Array.isArray(results)) throw new Error('expected a JSON list of [hero, votes, percent]');
  return results.reduce((sum: number, row: unknown) => {
    const votes = Array.isArray(row) ? Number(row[1]) : NaN;
    if (!Number.isFinite(votes)) throw new Error('expected a JSON list of [hero, votes, percent]');
    return sum + votes;
  }, 0);
}

/** Votes per hero in a parsed `/v2/results` answer (a hero listed twice is summed). */
export function countsByHero(results: unknown): Record<string, number> {
  if (!Array.isArray(results)) throw new Error('expected a JSON list of [hero, votes, percent]');
  const counts: Record<string, number> = {};
  for (const row of results as unknown[]) {
    const votes = Array.isArray(row) ? Number(row[1]) : NaN;
    if (!Number.isFinite(votes) || !Array.isArray(row)) throw new Error('expected a JSON list of [hero, votes, percent]');
    const hero = String(row[0]);
    counts[hero] = (counts[hero] ?? 0) + votes;
  }
  return counts;
}

/** lost = accepted − recorded, never negative; an excess (a vote stored after its answer failed) is `extra`. */
export function lostAndExtra(accepted: number, recordedDelta: number): { lost: number; extra: number } {
  return { lost: Math.max(0, accepted - recordedDelta), extra: Math.max(0, recordedDelta - accepted) };
}
