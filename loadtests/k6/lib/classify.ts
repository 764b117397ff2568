import { classifyK6Error, classifyRead as readOutcome, classifyVote as voteOutcome, type ErrorClass, type Outcome } from '../../votes.ts';

// How one k6 answer counts: the runner's own rules (loadtests/votes.ts, inlined by
// esbuild) applied to k6's http.Response. A vote is accepted only on HTTP 200 *and*
// a body saying "vote submitted"; any other status is `http_<status>`; a request
// without an answer is classified from k6's error code, where the runner reads errno.

export type { ErrorClass, Outcome };

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

/** POST /vote/<hero>. */
export function classifyVote(a: Answer): Outcome {
  return a.status === 0 ? classifyK6Error(a.error_code) : voteOutcome(a.status, String(a.body));
}

/** GET /v2/results and GET /options: a 200 is success. */
export function classifyRead(a: Answer): Outcome {
  return a.status === 0 ? classifyK6Error(a.error_code) : readOutcome(a.status);
}
