import { K6 } from '../../../lib/catalog.ts';
import { notForOneRun, parseThreshold, type Threshold } from '../../thresholds.ts';

// The main runner's thresholds (loadtests/thresholds.ts: `p99<500ms`,
// `failed_rate<0.01`, `lost==0`, ...) as k6 thresholds on the script's custom
// metrics, so a k6 run fails on the same conditions. lost, extra and drain_seconds
// are figures of the reconciliation, which needs the accepted count and teardown's
// reading together (only the summary has both) and may not settle, so those are
// judged in handleSummary instead of by k6.

/** Parse THRESHOLDS (comma-separated) with the runner's grammar; those of a comparison or a capacity search are refused. */
export function parseK6Thresholds(raw: string): Threshold[] {
  return raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((expr) => {
      let t: Threshold;
      try {
        t = parseThreshold(expr);
      } catch (err) {
        throw new Error(`THRESHOLDS: ${(err as Error).message}`);
      }
      const why = notForOneRun(t);
      if (why) throw new Error(`THRESHOLDS: ${why}`);
      return t;
    });
}

const LATENCY: Record<string, string> = { p50: 'med', p90: 'p(90)', p99: 'p(99)', p999: 'p(99.9)', max: 'max' };

/** A threshold as k6 takes it (metric name → expression); undefined when only the summary can judge it. */
export function toK6Threshold(t: Threshold, measuredSeconds: number): { metric: string; expression: string } | undefined {
  const k6 = (metric: string, agg: string, value = t.value) => ({ metric, expression: `${agg}${t.op}${Math.round(value * 1e6) / 1e6}` });
  const latency = LATENCY[t.metric];
  if (latency) return k6(K6.voteDuration, latency);
  switch (t.metric) {
    case 'attempted': return k6(K6.votesAttempted, 'count');
    case 'accepted': return k6(K6.votesAccepted, 'count');
    case 'failed': return k6(K6.votesFailed, 'count');
    case 'failed_rate': return k6(K6.voteFailedRate, 'rate');
    // k6's own counter rate divides by the whole run (setup, drain); the runner's
    // per-second figures divide by the measured time, so compare counts instead.
    case 'accepted_per_sec': return k6(K6.votesAccepted, 'count', t.value * measuredSeconds);
    case 'requests_per_sec': return k6(K6.requests, 'count', t.value * measuredSeconds);
    default: return undefined;
  }
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

/** The k6 sub-metric counting one failure class; k6 lists it in the summary only if a threshold names it. */
export function errorSubmetric(errorClass: string): string {
  return `${K6.voteErrors}{class:${errorClass}}`;
}
