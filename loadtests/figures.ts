// The figures every run reports — the core of the `--json` contract — shared by
// the runner's result, the per-mode medians of a comparison, the threshold
// evaluator and the k6 summary. Types only, so the k6 bundle can use them.

/** Vote latency percentiles in milliseconds. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What the load did and how the target answered. */
export interface LoadFigures {
  attempted: number;
  accepted: number;
  failed: number;
  acceptedPerSec: number;
  requestsPerSec: number;
  latencyMs: Percentiles;
  /** Failed votes by class. */
  errors: Record<string, number>;
}

/** Recorded votes per hero. */
export type HeroCounts = Record<string, number>;

/**
 * How a run's reconciliation ended: every accepted vote counted; votes lost (the count
 * stopped while the consumer was demonstrably idle, or there is no queue); or not settled
 * (the drain timed out while the count moved, the consumer stalled or could not be seen,
 * the final read failed, or the run was stopped first) — then `lost` is null.
 */
export type ReconcileOutcome = 'counted' | 'lost' | 'not-settled';

/** Accepted votes against the votes the target recorded. */
export interface Reconciliation {
  outcome: ReconcileOutcome;
  /** Votes the target recorded during the run and its drain (after − before), at the last successful read; null when none. */
  recordedDelta: number | null;
  /** Accepted votes never recorded, counted per hero (a duplicate of one hero cannot hide a loss of another); null when not settled. */
  lost: number | null;
  /** Votes recorded beyond those accepted, counted per hero (e.g. a failed answer whose vote was stored); null when not settled. */
  extra: number | null;
  /** Seconds from the end of the load until the recorded count reached its final value; null when not settled. */
  drainSeconds: number | null;
  /** Not settled: accepted votes not recorded at the last successful read (null: never read). */
  undrained?: number | null;
  /** Not settled: why, in one line. */
  reason?: string;
  /** Not settled: the final read failed, the count still moved, the consumer stalled or could not be seen, Ctrl-C, or no reconciliation. */
  unsettledBy?: 'read' | 'moving' | 'stalled' | 'unknown' | 'interrupted' | 'skipped';
  lostByHero: HeroCounts;
  extraByHero: HeroCounts;
  /** accepted − recorded in total; null when not settled. */
  net: { lost: number; extra: number } | null;
  /** Set when the per-hero and total figures disagree. */
  note?: string;
}

export type RunFigures = LoadFigures & Reconciliation;
