import { totalVotes as sharedTotalVotes } from '../../votes.ts';

// Reconciliation, as the main runner does it (the counting rules are shared with it
// through loadtests/votes.ts): votes recorded = GET /v2/results after − before, read
// once the recorded count has stopped moving; lost = accepted − recorded, never negative.

/** Total votes in a /v2/results answer body (k6 hands over the raw text). */
export function totalVotes(body: unknown): number {
  let doc: unknown = body;
  if (typeof body === 'string') {
    try {
      doc = JSON.parse(body);
    } catch {
      throw new Error('GET /v2/results did not answer JSON');
    }
  }
  return sharedTotalVotes(doc);
}

/** Poll /v2/results this often while draining (the runner's pace). */
export const DRAIN_POLL_SECONDS = 0.25;

/**
 * Watches the recorded count after the load stops: the queue has drained once
 * the count has not moved for `stableSeconds`. `drainSeconds` is the time of the
 * last change, so the stability window itself is not counted as draining.
 */
export class DrainWatch {
  private last: number;
  private lastChangeAt = 0;

  constructor(
    start: number,
    private readonly stableSeconds: number,
  ) {
    this.last = start;
  }

  /** Record a reading taken `t` seconds after the load stopped; true once stable. */
  observe(t: number, count: number): boolean {
    if (count !== this.last) {
      this.last = count;
      this.lastChangeAt = t;
    }
    return t - this.lastChangeAt >= this.stableSeconds;
  }

  get count(): number {
    return this.last;
  }

  /** Seconds from the end of the load to the last change, to 0.1 s as the runner reports it. */
  get drainSeconds(): number {
    return Math.round(this.lastChangeAt * 10) / 10;
  }
}

export { lostAndExtra as reconcile } from '../../votes.ts';
