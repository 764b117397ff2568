import { voteBodyOutcome } from '../../votes.ts';

// How one k6 answer counts, with the main runner's semantics: a vote is accepted only
// on HTTP 200 *and* a body saying "vote submitted" (loadtests/votes.ts, shared with the
// runner); any other status is `http_<status>`; no answer at all is classified from
// k6's error code, which the runner sees as errno codes instead.

export type ErrorClass = `http_${number}` | 'vote_failed' | 'timeout' | 'refused' | 'reset' | 'other';

/**
 * Classes k6 can report per count: k6 lists a tagged sub-metric in its summary only
 * when a threshold names it, so the summary sees these; other statuses are summed as
 * `http_other`. The statuses are those myhero, its probes and common proxies answer.
 */
export const SUMMARY_CLASSES: readonly ErrorClass[] = [
  'vote_failed', 'timeout', 'refused', 'reset', 'other',
  'http_400', 'http_401', 'http_403', 'http_404', 'http_405', 'http_408', 'http_413', 'http_429',
  'http_500', 'http_502', 'http_503', 'http_504',
];

/** The fields of a k6 `http.Response` the classification reads. */
export interface Answer {
  status: number;
  body: unknown;
  /** k6 error code: 0 when fine, 1000-1299 for a request without an HTTP answer. */
  error_code: number;
}

export type Outcome = { ok: true } | { ok: false; class: ErrorClass };

// k6 error codes (k6 docs, "Error codes"): request timeout, dial timeout;
// dial refused; reset by peer, broken pipe on write.
const K6_TIMEOUT = [1050, 1211];
const K6_REFUSED = [1212];
const K6_RESET = [1220, 1201];

function transportClass(errorCode: number): ErrorClass {
  if (K6_TIMEOUT.includes(errorCode)) return 'timeout';
  if (K6_REFUSED.includes(errorCode)) return 'refused';
  if (K6_RESET.includes(errorCode)) return 'reset';
  return 'other';
}

function notOk(a: Answer): Outcome | undefined {
  if (a.status === 0) return { ok: false, class: transportClass(a.error_code) };
  if (a.status !== 200) return { ok: false, class: `http_${a.status}` };
  return undefined;
}

/** POST /vote/<hero>: accepted only on 200 + "vote submitted". */
export function classifyVote(a: Answer): Outcome {
  const failed = notOk(a);
  if (failed) return failed;
  const outcome = voteBodyOutcome(String(a.body));
  return outcome === 'accepted' ? { ok: true } : { ok: false, class: outcome };
}

/** GET /v2/results and GET /options: a 200 is success. */
export function classifyRead(a: Answer): Outcome {
  return notOk(a) ?? { ok: true };
}
