import { assertNever } from '../lib/assert.ts';
import { APP_MODES } from '../lib/defaults.ts';
import { UserError } from '../lib/errors.ts';
import type { LoadFigures } from './figures.ts';

// k6-style pass/fail criteria: `p99<500ms`, `lost==0`, `failed_rate<0.01`,
// `queue.accepted_per_sec>100`, `ratio>1`. Parsed once into data, evaluated
// against a metric lookup; a failed threshold makes the command exit non-zero.

const OPS = ['<=', '>=', '==', '!=', '<', '>'] as const;
type Op = (typeof OPS)[number];

/** Metric name → what it means; latency metrics take ms or s units. */
const THRESHOLD_METRICS: Record<string, string> = {
  p50: 'median vote latency (ms)',
  p90: '90th percentile vote latency (ms)',
  p99: '99th percentile vote latency (ms)',
  p999: '99.9th percentile vote latency (ms)',
  max: 'slowest vote (ms)',
  failed_rate: 'failed votes / attempted votes',
  accepted_per_sec: 'accepted votes per second',
  requests_per_sec: 'requests per second',
  attempted: 'votes attempted',
  accepted: 'votes accepted',
  failed: 'votes failed',
  lost: 'accepted votes never recorded',
  extra: 'votes recorded beyond those accepted',
  drain_seconds: 'seconds until the recorded count settled after the load',
  ratio: 'compare only: queue accepted votes/s ÷ direct accepted votes/s',
  sustained_per_sec: 'capacity search: the highest arrival rate sustained within the SLO (loadtest capacity; compare --capacity and demo per mode)',
  capacity_ratio: 'compare --capacity and demo: queue sustained ÷ direct sustained',
};

/** Metrics of the comparison as a whole, never of one mode. */
const COMPARISON_ONLY = new Set(['ratio', 'capacity_ratio']);
/** What a capacity search's threshold may check: its knee and its reconciliation. */
const CAPACITY_METRICS = new Set(['sustained_per_sec', 'lost', 'extra', 'drain_seconds']);

const LATENCY = new Set(['p50', 'p90', 'p99', 'p999', 'max']);

export interface Threshold {
  /** As the user wrote it. */
  source: string;
  /** Only for this mode of a compare (`queue.p99<...`); otherwise every run/mode. */
  mode?: (typeof APP_MODES)[number];
  metric: string;
  op: Op;
  value: number;
}

export interface ThresholdOutcome {
  threshold: string;
  /** The mode it was checked on, for compare. */
  mode?: string;
  /** null when the figure is unknown (e.g. `lost` of a reconciliation that did not settle). */
  actual: number | null;
  /** false when failed or unknown: an unknown figure never passes. */
  ok: boolean;
  /** The figure was unknown: the run could not be judged on this threshold. */
  unknown?: true;
}

const usage = (raw: string, why: string): never => {
  throw new UserError(`invalid --threshold "${raw}": ${why}`, 2);
};

/** Parse one threshold; k6's `p(99)` spelling is accepted too. */
export function parseThreshold(raw: string): Threshold {
  const s = raw.replace(/\s+/g, '');
  const op = OPS.find((o) => s.includes(o));
  if (!op) return usage(raw, `expected metric, operator (${OPS.join(' ')}) and value, e.g. p99<500ms`);
  const [lhs, rhs] = [s.slice(0, s.indexOf(op)), s.slice(s.indexOf(op) + op.length)];
  let name = lhs.replace(/^p\((\d+(?:\.\d+)?)\)$/, (_, p: string) => `p${p.replace('.', '')}`);
  let mode: Threshold['mode'];
  const dot = /^(direct|queue)\.(.+)$/.exec(name);
  if (dot) {
    mode = dot[1] as Threshold['mode'];
    name = dot[2]!;
  }
  if (!(name in THRESHOLD_METRICS)) return usage(raw, `unknown metric "${lhs}"; known: ${Object.keys(THRESHOLD_METRICS).join(', ')}`);
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|%)?$/.exec(rhs);
  if (!m) return usage(raw, `"${rhs}" is not a number`);
  let value = Number(m[1]);
  const unit = m[2];
  if (unit === 's' || unit === 'ms') {
    if (!LATENCY.has(name)) return usage(raw, `${name} takes no time unit`);
    if (unit === 's') value *= 1000;
  } else if (unit === '%') {
    if (name !== 'failed_rate') return usage(raw, `only failed_rate takes %`);
    value /= 100;
  }
  if (COMPARISON_ONLY.has(name) && mode) return usage(raw, `${name} belongs to the comparison, not to one mode`);
  return { source: raw.trim(), ...(mode ? { mode } : {}), metric: name, op, value };
}

export function parseThresholds(raws: readonly string[]): Threshold[] {
  return raws.map(parseThreshold);
}

function compare(actual: number, op: Op, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
    default:
      return assertNever(op, 'comparison');
  }
}

/** The figures thresholds are checked against; the reconciliation's are null when it did not settle. */
export type ThresholdFigures = Omit<LoadFigures, 'errors'> & { lost: number | null; extra: number | null; drainSeconds: number | null };

export function metricOf(f: ThresholdFigures, metric: string): number | null {
  switch (metric) {
    case 'p50':
    case 'p90':
    case 'p99':
    case 'p999':
    case 'max':
      return f.latencyMs[metric];
    case 'failed_rate':
      return f.attempted ? f.failed / f.attempted : 0;
    case 'accepted_per_sec':
      return f.acceptedPerSec;
    case 'requests_per_sec':
      return f.requestsPerSec;
    case 'drain_seconds':
      return f.drainSeconds;
    case 'attempted':
    case 'accepted':
    case 'failed':
    case 'lost':
    case 'extra':
      return f[metric];
    default:
      throw new Error(`no figure for ${metric}`);
  }
}

/**
 * How far a figure can be trusted: `exact`, or a bound of the true value (a capacity search that
 * reached its maximum rate or the generator's limit sustained *at least* its figure).
 */
export type Bound = 'exact' | 'lower' | 'upper' | 'none';

function outcome(t: Threshold, actual: number | null, mode?: string, bound: Bound = 'exact'): ThresholdOutcome {
  const where = mode ? { mode } : {};
  if (actual === null || bound === 'none') return { threshold: t.source, ...where, actual, ok: false, unknown: true };
  const ok = compare(actual, t.op, t.value);
  if (bound === 'exact') return { threshold: t.source, ...where, actual, ok };
  // A bound decides only one way: a lower bound that passes `>` passes; one that fails it says nothing.
  const decided = bound === 'lower' ? (t.op.startsWith('>') ? ok : t.op.startsWith('<') ? !ok : false) : t.op.startsWith('<') ? ok : t.op.startsWith('>') ? !ok : false;
  return decided ? { threshold: t.source, ...where, actual, ok } : { threshold: t.source, ...where, actual, ok: false, unknown: true };
}

/** A capacity search's figures for thresholds. */
export interface CapacityFigures {
  sustainedPerSec: number;
  /** The figure is a lower bound (the search reached its maximum rate, or the generator was the limit). */
  atLeast: boolean;
  lost: number | null;
  extra: number | null;
  drainSeconds: number | null;
}

function capacityMetric(c: CapacityFigures, metric: string): { actual: number | null; bound: Bound } {
  if (metric === 'sustained_per_sec') return { actual: c.sustainedPerSec, bound: c.atLeast ? 'lower' : 'exact' };
  if (metric === 'drain_seconds') return { actual: c.drainSeconds, bound: 'exact' };
  if (metric === 'lost' || metric === 'extra') return { actual: c[metric], bound: 'exact' };
  throw new UserError(`--threshold: ${metric} does not apply to a capacity search (use ${[...CAPACITY_METRICS].join(', ')})`, 2);
}

/** Check thresholds on a capacity search (`loadtest capacity`): its knee and its reconciliation. */
export function evaluateCapacity(thresholds: readonly Threshold[], c: CapacityFigures): ThresholdOutcome[] {
  return thresholds.map((t) => {
    if (COMPARISON_ONLY.has(t.metric) || t.mode) throw new UserError(`--threshold "${t.source}" applies to loadtest compare only`, 2);
    const { actual, bound } = capacityMetric(c, t.metric);
    return outcome(t, actual, undefined, bound);
  });
}

/** Throw a usage error for thresholds the run cannot evaluate (before any load). */
export function checkCapacityThresholds(thresholds: readonly Threshold[]): void {
  for (const t of thresholds) capacityMetric({ sustainedPerSec: 0, atLeast: false, lost: 0, extra: 0, drainSeconds: 0 }, t.metric);
}

/**
 * Why a threshold cannot be checked on one run (`loadtest run`, a k6 run): it belongs to a
 * comparison (`ratio`, `capacity_ratio`, `direct.`/`queue.`) or to a capacity search
 * (`sustained_per_sec`). One line, e.g. `"ratio>1" applies to loadtest compare only`; else undefined.
 */
export function notForOneRun(t: Threshold): string | undefined {
  if (COMPARISON_ONLY.has(t.metric) || t.mode) return `"${t.source}" applies to loadtest compare only`;
  if (t.metric === 'sustained_per_sec') return `"${t.source}" applies to a capacity search (loadtest capacity, compare --capacity, demo)`;
  return undefined;
}

/** Throw a usage error for thresholds one run cannot evaluate (before any load). */
export function checkRunThresholds(thresholds: readonly Threshold[]): void {
  for (const t of thresholds) {
    const why = notForOneRun(t);
    if (why) throw new UserError(`--threshold ${why}`, 2);
  }
}

/** Check thresholds on one run. Comparison, capacity and mode-scoped thresholds do not apply to a single run and are rejected. */
export function evaluateRun(thresholds: readonly Threshold[], f: ThresholdFigures): ThresholdOutcome[] {
  checkRunThresholds(thresholds);
  return thresholds.map((t) => outcome(t, metricOf(f, t.metric)));
}

/** The comparison's capacity searches, for `capacity_ratio` (queue ÷ direct sustained) and `sustained_per_sec`. */
export type CompareCapacity = { ratio: number | null } & Partial<Record<'direct' | 'queue', { sustainedPerSec: number; atLeast: boolean }>>;

/**
 * Check thresholds on a comparison: unscoped ones on each mode, `mode.x` on that mode, `ratio`
 * and `capacity_ratio` once (null: direct accepted or sustained nothing). With `capacity`,
 * `sustained_per_sec` and `capacity_ratio` respect the searches' bounds.
 */
export function evaluateCompare(thresholds: readonly Threshold[], modes: Record<'direct' | 'queue', ThresholdFigures>, ratio: number | null, capacity?: CompareCapacity): ThresholdOutcome[] {
  return thresholds.flatMap((t) => {
    if (t.metric === 'ratio') return [outcome(t, ratio)];
    if (t.metric === 'capacity_ratio' || t.metric === 'sustained_per_sec') {
      if (!capacity?.direct || !capacity.queue) throw new UserError(`--threshold "${t.source}" needs the capacity searches (--capacity)`, 2);
    }
    if (t.metric === 'capacity_ratio') {
      const d = capacity!.direct!;
      const q = capacity!.queue!;
      // queue ÷ direct: a lower bound of queue makes a lower bound of the ratio, one of direct an upper bound.
      const bound: Bound = q.atLeast && d.atLeast ? 'none' : q.atLeast ? 'lower' : d.atLeast ? 'upper' : 'exact';
      return [outcome(t, capacity!.ratio, undefined, bound)];
    }
    return (t.mode ? [t.mode] : APP_MODES).map((mode) => {
      if (t.metric === 'sustained_per_sec') {
        const c = capacity![mode]!;
        return outcome(t, c.sustainedPerSec, mode, c.atLeast ? 'lower' : 'exact');
      }
      return outcome(t, metricOf(modes[mode], t.metric), mode);
    });
  });
}
