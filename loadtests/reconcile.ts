import type { HeroCounts, ReconcileOutcome, Reconciliation } from './figures.ts';
import { lostAndExtra } from './votes.ts';

export type { HeroCounts, ReconcileOutcome, Reconciliation };

// Did every accepted vote get counted? Pure decisions over what the drain reads:
// the recorded count per hero (/v2/results) before the load and now, and what
// the consumer's metrics show. Three outcomes, never guessed:
// - counted: every hero's recorded votes reached the votes the run got accepted;
// - lost: the count stopped moving while the consumer was demonstrably idle and
//   connected (or there is no queue: direct mode), and some votes are missing;
// - not settled: the drain timeout came while the count still moved, the
//   consumer was stalled or its state unknown, or the final read failed —
//   `lost` is then null, with `undrained` and the reason.
// The polling itself is in drain.ts (and, for k6, in the script's teardown).

/** A /metrics endpoint of a myhero service (the twin's, or a real deployment's exporter); service `any` when unknown. */
export interface MetricsTarget {
  service: string;
  url: string;
}

export interface BacklogPoint {
  /** Seconds since the load started. */
  t: number;
  votes: number;
  /** Votes recorded since the load started, when the reading tells (the twin's counters or /v2/results). */
  recorded?: number;
}

/** Sum every series of a metric in a Prometheus text exposition (undefined when absent). */
export function sumMetric(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

export const totalOf = (c: HeroCounts): number => Object.values(c).reduce((a, b) => a + b, 0);

/** Accepted against recorded, per hero (gross) and in total (net). */
export interface CountComparison {
  recordedDelta: number;
  /** Σ over heroes of accepted − recorded where positive: a duplicate of one hero cannot hide a loss of another. */
  lost: number;
  /** Σ over heroes of recorded − accepted where positive (duplicates, failed answers whose vote was stored, other voters). */
  extra: number;
  lostByHero: HeroCounts;
  extraByHero: HeroCounts;
  /** accepted − recorded in total. */
  net: { lost: number; extra: number };
}

export function compareCounts(acceptedByHero: HeroCounts, before: HeroCounts, after: HeroCounts): CountComparison {
  const lostByHero: HeroCounts = {};
  const extraByHero: HeroCounts = {};
  for (const hero of new Set([...Object.keys(acceptedByHero), ...Object.keys(after), ...Object.keys(before)])) {
    const d = (after[hero] ?? 0) - (before[hero] ?? 0) - (acceptedByHero[hero] ?? 0);
    if (d < 0) lostByHero[hero] = -d;
    else if (d > 0) extraByHero[hero] = d;
  }
  const recordedDelta = totalOf(after) - totalOf(before);
  const { lost, extra } = lostAndExtra(totalOf(acceptedByHero), recordedDelta);
  return { recordedDelta, lost: totalOf(lostByHero), extra: totalOf(extraByHero), lostByHero, extraByHero, net: { lost, extra } };
}

/** One line when duplicates of some heroes hide losses of others in the total, else undefined. */
function grossNote(c: Pick<CountComparison, 'lost' | 'extra' | 'net' | 'lostByHero' | 'extraByHero'>): string | undefined {
  if (c.lost === c.net.lost) return undefined;
  const list = (h: HeroCounts) =>
    Object.entries(h)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return `net and gross disagree: in total ${c.net.lost} lost and ${c.net.extra} extra, but per hero ${c.lost} lost (${list(c.lostByHero)}) and ${c.extra} extra (${list(c.extraByHero)}): recorded extras of some heroes hide lost votes of others`;
}

/** What the consumer side shows at one poll. */
export type Consumer =
  /** No queue (direct mode): the app answered only after data recorded, so a stable count is final. */
  | { kind: 'none' }
  /** From ernst's metrics: connected to the broker, and whether it processed or retried anything since the count last moved. */
  | { kind: 'queue'; connected: boolean; progressing: boolean; detail?: string }
  /** Nothing tells: no metrics, or a queue whose consumer exposes none. */
  | { kind: 'unknown' };

/** How often the recorded count is read while draining (the runner's drain.ts and the k6 script's teardown). */
export const DRAIN_POLL_MS = 250;

export interface DrainPolicy {
  timeoutMs: number;
  /** The count must not move for this long before a short count is judged. */
  stableMs: number;
}

export interface DrainState {
  acceptedByHero: HeroCounts;
  /** From the last successful read; undefined when none succeeded. */
  counts?: CountComparison;
  /** The last read failed, with this message. */
  readError?: string;
  /** ms since the recorded count last changed. */
  stableForMs: number;
  /** ms since the drain started. */
  elapsedMs: number;
  consumer: Consumer;
  /** Stopped by Ctrl-C: judge on what was read, wait no longer. */
  interrupted?: boolean;
}

/** Why a drain did not settle. */
export type UnsettledBy = NonNullable<Reconciliation['unsettledBy']>;

export type DrainVerdict = { done: false } | { done: true; outcome: ReconcileOutcome; reason?: string; by?: UnsettledBy };

const everyHeroCounted = (c: CountComparison) => c.lost === 0;

/** Decide after a poll whether the drain is over, and how it ended. */
export function judgeDrain(s: DrainState, p: DrainPolicy): DrainVerdict {
  const c = s.counts;
  if (c && !s.readError && everyHeroCounted(c)) return { done: true, outcome: 'counted' };
  const stable = s.stableForMs >= p.stableMs;
  const short = c ? `the count stopped ${c.lost} vote${c.lost === 1 ? '' : 's'} short` : 'nothing was read';
  if (s.interrupted) {
    return { done: true, outcome: 'not-settled', by: 'interrupted', reason: s.readError ? `stopped (Ctrl-C) before the drain; the last read failed: ${s.readError}` : 'stopped (Ctrl-C) before the drain' };
  }
  if (!s.readError && c && stable) {
    if (s.consumer.kind === 'none') return { done: true, outcome: 'lost' };
    if (s.consumer.kind === 'queue' && s.consumer.connected && !s.consumer.progressing) return { done: true, outcome: 'lost' };
  }
  if (s.elapsedMs < p.timeoutMs) return { done: false };
  const after = `drain timeout (${p.timeoutMs / 1000} s) reached`;
  if (s.readError) return { done: true, outcome: 'not-settled', by: 'read', reason: `${after}: the final read of the recorded votes failed: ${s.readError}` };
  if (!stable) return { done: true, outcome: 'not-settled', by: 'moving', reason: `${after} before the count stopped moving` };
  if (s.consumer.kind === 'queue') {
    const why = s.consumer.connected ? 'ernst is working (processing or retrying) but the count does not move' : (s.consumer.detail ?? 'ernst is not connected to the broker');
    return { done: true, outcome: 'not-settled', by: 'stalled', reason: `${after}: consumer stalled, ${short}: ${why}` };
  }
  return {
    done: true,
    outcome: 'not-settled',
    by: 'unknown',
    reason: `${after}: ${short} and nothing shows whether the queue's consumer still works (pass --metrics-url to tell a loss from a stalled queue)`,
  };
}

/** The reconciliation from the drain's last state and verdict. */
export function reconciliationOf(s: DrainState, verdict: Extract<DrainVerdict, { done: true }>, drainSeconds: number): Reconciliation {
  const c = s.counts;
  const drain = Math.round(drainSeconds * 10) / 10;
  if (verdict.outcome === 'not-settled') {
    return {
      outcome: 'not-settled',
      recordedDelta: c?.recordedDelta ?? null,
      lost: null,
      extra: null,
      drainSeconds: null,
      undrained: c ? c.lost : null,
      reason: verdict.reason ?? 'not settled',
      unsettledBy: verdict.by ?? 'unknown',
      lostByHero: c?.lostByHero ?? {},
      extraByHero: c?.extraByHero ?? {},
      net: null,
    };
  }
  const counts = c!;
  const note = grossNote(counts);
  return {
    outcome: verdict.outcome,
    recordedDelta: counts.recordedDelta,
    lost: counts.lost,
    extra: counts.extra,
    drainSeconds: drain,
    lostByHero: counts.lostByHero,
    extraByHero: counts.extraByHero,
    net: counts.net,
    ...(note ? { note } : {}),
  };
}

/** One line for terminals, Markdown and HTML: what the reconciliation knows. */
export function describeReconciliation(r: Reconciliation, acceptedTotal: number): string {
  if (r.outcome === 'not-settled') {
    const undrained = r.undrained === null || r.undrained === undefined ? 'unknown' : String(r.undrained);
    return `NOT SETTLED: accepted ${acceptedTotal}, recorded ${r.recordedDelta ?? 'unknown'}, not yet counted ${undrained}; lost unknown (${r.reason})`;
  }
  const head = `${r.outcome === 'counted' ? 'counted' : 'LOST'}: accepted ${acceptedTotal}, recorded ${r.recordedDelta}, lost ${r.lost}, extra ${r.extra}, drain ${r.drainSeconds} s`;
  return r.note ? `${head}; ${r.note}` : head;
}

/** A run whose votes were not reconciled (the plan skips it). */
export function notReconciled(): Reconciliation {
  return { outcome: 'not-settled', recordedDelta: null, lost: null, extra: null, drainSeconds: null, undrained: null, reason: 'not reconciled (the plan skips it)', unsettledBy: 'skipped', lostByHero: {}, extraByHero: {}, net: null };
}
