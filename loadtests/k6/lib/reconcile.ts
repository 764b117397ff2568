import { compareCounts, DRAIN_POLL_MS, judgeDrain, notReconciled, reconciliationOf, type DrainState, type DrainVerdict, type Reconciliation } from '../../reconcile.ts';
import { classifyK6Error, totalVotes as sharedTotalVotes } from '../../votes.ts';
import type { VoteSettings } from './options.ts';

// Reconciliation with the runner's own rules and outcomes (loadtests/reconcile.ts,
// inlined by esbuild): counted, lost, or not settled with `lost: null`. What differs
// is only where the evidence comes from. k6 gives teardown() no access to the VUs'
// accepted counts, so teardown cannot stop once every vote is counted as the runner
// does: it reads GET /v2/results until the count has not moved for DRAIN_STABLE (or
// DRAIN_TIMEOUT), and hands what it saw to handleSummary() through gauges, where the
// runner's judgeDrain() decides. Per hero, k6 knows nothing: its summary holds no
// per-hero counts (the heroes are only known after setup), so it reconciles in total.

/** Poll /v2/results this often while draining (the runner's pace). */
export const DRAIN_POLL_SECONDS = DRAIN_POLL_MS / 1000;

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

/**
 * Follows the recorded count after the load stops: the queue has drained once
 * the count has not moved for `stableSeconds`. Its last change, not the end of
 * the stable window, is when draining ended.
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
    return this.stableFor(t) >= this.stableSeconds;
  }

  get count(): number {
    return this.last;
  }

  /** Seconds from the end of the load to the count's last change. */
  get lastChangeSeconds(): number {
    return this.lastChangeAt;
  }

  /** Seconds the count has not moved, at `t`. */
  stableFor(t: number): number {
    return t - this.lastChangeAt;
  }
}

/** What teardown()'s drain saw, as handleSummary() reads it back from the gauges. */
export interface DrainReading {
  /** Recorded after − before, at the last successful read; undefined when none succeeded. */
  recordedDelta?: number;
  lastChangeSeconds: number;
  stableSeconds: number;
  elapsedSeconds: number;
  /** 0: the last read succeeded; else its HTTP status (200: not a list of results), or k6's error code (1000+). */
  readError: number;
}

/** The one line describing a failed read of /v2/results from its code. */
export function readErrorText(code: number): string {
  if (code >= 1000) return `GET /v2/results got no answer (k6 error ${code}, ${classifyK6Error(code)})`;
  if (code === 200) return 'GET /v2/results did not answer a list of [hero, votes, percent]';
  return `GET /v2/results answered HTTP ${code}`;
}

const ALL = 'all heroes';

/**
 * The runner's Reconciliation of what teardown saw: `undefined` when teardown reported
 * nothing (setup failed, or k6 stopped before it). The per-hero fields are the total's.
 */
export function reconcileDrain(d: DrainReading | undefined, acceptedTotal: number, s: VoteSettings): Reconciliation {
  if (!d) return { ...notReconciled(), reason: 'teardown() reported no reading of the recorded votes (setup() did not complete, or k6 stopped first)' };
  if (s.parallelism > 1) {
    return {
      ...notReconciled(),
      recordedDelta: d.recordedDelta ?? null,
      reason: `PARALLELISM=${s.parallelism}: each k6 instance knows only its own accepted votes; compare the sum of the runners' acceptedTotal with the largest recordedDelta`,
    };
  }
  const accepted = { [ALL]: acceptedTotal };
  const state: DrainState = {
    acceptedByHero: accepted,
    ...(d.recordedDelta === undefined ? {} : { counts: compareCounts(accepted, {}, { [ALL]: d.recordedDelta }) }),
    ...(d.readError ? { readError: readErrorText(d.readError) } : {}),
    stableForMs: d.stableSeconds * 1000,
    elapsedMs: d.elapsedSeconds * 1000,
    // Without the consumer's metrics, only a known direct-mode app makes a short count final.
    consumer: s.appMode === 'direct' ? { kind: 'none' } : { kind: 'unknown' },
  };
  const judged = judgeDrain(state, { timeoutMs: s.drainTimeout.seconds * 1000, stableMs: s.drainStable.seconds * 1000 });
  // The runner would go on reading while nothing shows whether the queue's consumer works;
  // teardown has ended, so that is where the run stays: not settled, in k6's words.
  const verdict: Extract<DrainVerdict, { done: true }> =
    judged.done && judged.by !== 'unknown'
      ? judged
      : {
          done: true,
          outcome: 'not-settled',
          by: 'unknown',
          reason: `the count stopped ${state.counts?.lost ?? 'some'} votes short and did not move for DRAIN_STABLE=${s.drainStable.text}; nothing shows whether the queue's consumer still works (set APP_MODE=direct when the app has no queue)`,
        };
  return reconciliationOf(state, verdict, d.lastChangeSeconds);
}
