import { K6 } from '../../../lib/catalog.ts';

// The main runner's threshold grammar (`p99<500ms`, `failed_rate<0.01`, `lost==0`)
// translated to k6 thresholds on the script's custom metrics, so a k6 run fails on
// the same conditions. Reconciliation figures (lost, extra) are known only once the
// summary has both the accepted count and the teardown's recorded delta, so those
// are evaluated in handleSummary instead of by k6.

export const THRESHOLD_METRICS = [
  'p50', 'p90', 'p99', 'p999', 'max',
  'attempted', 'accepted', 'failed', 'failed_rate',
  'accepted_per_sec', 'requests_per_sec',
  'recorded_delta', 'lost', 'extra', 'drain_seconds',
] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

export type ThresholdOp = '<=' | '>=' | '==' | '!=' | '<' | '>';

export interface Threshold {
  /** As written by the user. */
  expr: string;
  metric: ThresholdMetric;
  op: ThresholdOp;
  /** Milliseconds for latencies, seconds for drain_seconds, a plain number otherwise. */
  value: number;
}

const LATENCY: Partial<Record<ThresholdMetric, string>> = {
  p50: 'med', p90: 'p(90)', p99: 'p(99)', p999: 'p(99.9)', max: 'max',
};

/** Parse `metric op value[unit]`; throws one clear line on anything else. */
export function parseThreshold(expr: string): Threshold {
  const m = /^\s*([a-z0-9_]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(expr);
  const metric = m?.[1] as ThresholdMetric | undefined;
  if (!m || !metric || !THRESHOLD_METRICS.includes(metric)) {
    throw new Error(`invalid threshold "${expr}": expected <metric><op><value> with metric one of ${THRESHOLD_METRICS.join('|')}, e.g. p99<500ms`);
  }
  let value = Number(m[3]);
  const unit = m[4];
  if (unit && !(metric in LATENCY) && metric !== 'drain_seconds') throw new Error(`invalid threshold "${expr}": ${metric} takes no unit`);
  if (metric in LATENCY && unit === 's') value *= 1000;
  if (metric === 'drain_seconds' && unit === 'ms') value /= 1000;
  return { expr: expr.trim(), metric, op: m[2] as ThresholdOp, value };
}

/** A threshold as k6 takes it: metric name → expression; undefined when only the summary can judge it. */
export function toK6Threshold(t: Threshold, measuredSeconds: number): { metric: string; expression: string } | undefined {
  const k6 = (metric: string, agg: string, value = t.value) => ({ metric, expression: `${agg}${t.op}${round(value)}` });
  const latency = LATENCY[t.metric];
  if (latency) return k6(K6.voteDuration, latency);
  switch (t.metric) {
    case 'attempted': return k6(K6.votesAttempted, 'count');
    case 'accepted': return k6(K6.votesAccepted, 'count');
    case 'failed': return k6(K6.votesFailed, 'count');
    case 'failed_rate': return k6(K6.voteFailedRate, 'rate');
    // k6's own counter rate divides by the whole run (warm-up, setup, drain);
    // the runner's per-second figures divide by the measured time only.
    case 'accepted_per_sec': return k6(K6.votesAccepted, 'count', t.value * measuredSeconds);
    case 'requests_per_sec': return k6(K6.requests, 'count', t.value * measuredSeconds);
    case 'recorded_delta': return k6(K6.recordedDelta, 'value');
    case 'drain_seconds': return k6(K6.drainSeconds, 'value');
    default: return undefined;
  }
}

/** The k6 sub-metric holding one failure class; it exists in the summary only if a threshold names it. */
export function errorSubmetric(errorClass: string): string {
  return `${K6.voteErrors}{class:${errorClass}}`;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** k6's `thresholds` option for a list of runner thresholds. */
export function k6Thresholds(list: readonly Threshold[], measuredSeconds: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of list) {
    const k = toK6Threshold(t, measuredSeconds);
    if (k) (out[k.metric] ??= []).push(k.expression);
  }
  return out;
}

export function compare(actual: number, op: ThresholdOp, expected: number): boolean {
  switch (op) {
    case '<': return actual < expected;
    case '<=': return actual <= expected;
    case '>': return actual > expected;
    case '>=': return actual >= expected;
    case '==': return actual === expected;
    case '!=': return actual !== expected;
  }
}
