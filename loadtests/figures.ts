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

/** Accepted votes against the votes the target recorded. */
export interface Reconciliation {
  /** Votes the target recorded during the run and its drain (after − before). */
  recordedDelta: number;
  /** Accepted votes that were never recorded; never negative. */
  lost: number;
  /** Votes recorded beyond those accepted (e.g. a failed answer whose vote was stored anyway). */
  extra: number;
  /** Seconds from the end of the load until the recorded count reached its final value. */
  drainSeconds: number;
}

export type RunFigures = LoadFigures & Reconciliation;
