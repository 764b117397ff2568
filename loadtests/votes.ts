import { BODIES } from '../lib/defaults.ts';

// What a myhero answer means for the vote count, with no dependency beyond the
// brief's facts, so the Node runner and the k6 bundle (k6/lib/, which esbuild
// inlines this into) share one definition.

/** Why a vote did not count: `http_<status>`, a "vote submission failed" body, or a transport failure. */
export type ErrorClass = `http_${number}` | 'vote_failed' | 'timeout' | 'refused' | 'reset' | 'other' | 'aborted';
export type Outcome = 'accepted' | ErrorClass;

/** Accepted means HTTP 200 and the body `{"result": "vote submitted"}`; myhero answers a failed vote with 200 too. */
export function classifyVote(status: number, body: string): Outcome {
  return status === 200 ? voteBodyOutcome(body) : `http_${status}`;
}

/** A read (GET /v2/results, GET /options) succeeds on HTTP 200. */
export function classifyRead(status: number): Outcome {
  return status === 200 ? 'accepted' : `http_${status}`;
}

/**
 * A request that got no HTTP answer, by class: the runner sees Node's errno codes, k6
 * its own error codes (k6 docs, "Error codes": 1050 request timeout, 1211 dial timeout,
 * 1212 dial refused, 1220 reset by peer, 1201 broken pipe on write). Anything else is `other`.
 */
const TRANSPORT: readonly { class: 'timeout' | 'refused' | 'reset'; errno: readonly string[]; k6: readonly number[] }[] = [
  { class: 'timeout', errno: ['ETIMEDOUT'], k6: [1050, 1211] },
  { class: 'refused', errno: ['ECONNREFUSED'], k6: [1212] },
  { class: 'reset', errno: ['ECONNRESET', 'EPIPE', 'ECONNABORTED'], k6: [1220, 1201] },
];

/** A transport failure of the runner, by its errno code. */
export function classifyError(err: unknown): ErrorClass {
  const code = (err as { code?: unknown } | undefined)?.code;
  return TRANSPORT.find((t) => typeof code === 'string' && t.errno.includes(code))?.class ?? 'other';
}

/** A transport failure of k6 (`http.Response.error_code`), by its error code. */
export function classifyK6Error(errorCode: number): ErrorClass {
  return TRANSPORT.find((t) => t.k6.includes(errorCode))?.class ?? 'other';
}

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

/** The hero names of a GET /options answer body, `{"options": [...]}`; undefined when it is not that. */
export function heroOptions(body: string): string[] | undefined {
  let options: unknown;
  try {
    options = (JSON.parse(body) as { options?: unknown } | null)?.options;
  } catch {
    return undefined;
  }
  return Array.isArray(options) && options.every((o) => typeof o === 'string') ? (options as string[]) : undefined;
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

/** Total votes in a parsed `/v2/results` answer: `[[hero, votes, percent], ...]`. */
export function totalVotes(results: unknown): number {
  return Object.values(countsByHero(results)).reduce((a, b) => a + b, 0);
}

/** lost = accepted − recorded, never negative; an excess (a vote stored after its answer failed) is `extra`. */
export function lostAndExtra(accepted: number, recordedDelta: number): { lost: number; extra: number } {
  return { lost: Math.max(0, accepted - recordedDelta), extra: Math.max(0, recordedDelta - accepted) };
}
