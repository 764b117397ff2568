import { K6 } from '../../../lib/catalog.ts';
import type { LoadFigures, Reconciliation } from '../../figures.ts';
import { describeReconciliation } from '../../reconcile.ts';
import { evaluateRun, type Threshold } from '../../thresholds.ts';
import { SUMMARY_CLASSES } from './classify.ts';
import { measuredSeconds, type VoteSettings } from './options.ts';
import { reconcileDrain, type DrainReading } from './reconcile.ts';
import { errorSubmetric, toK6Threshold } from './thresholds.ts';

// The end-of-test summary k6 hands to handleSummary(), turned into the main
// runner's `--json` shape, so a k6 run and a `loadtest run` compare field by field.
// k6 calls handleSummary() even when setup() threw, so a run that never happened
// reaches here too and must not read as passed.

/**
 * The summary's first field: marks the summary line in a log that holds other lines
 * too (k6-operator pod logs mix k6's own log lines, e.g. a threshold error, with it).
 */
export const SUMMARY_REPORT = 'myhero-k6-vote';

/** The parts of k6's handleSummary() data this module reads. */
export interface K6SummaryData {
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  state?: { testRunDurationMs?: number };
}

export interface ThresholdResult {
  expr: string;
  ok: boolean;
  /**
   * `k6` when k6 evaluated it (so it sets k6's exit code), `summary` when only the summary
   * could, `none` when nothing was measured to judge it on (then `ok` is false).
   */
  judgedBy: 'k6' | 'summary' | 'none';
  /** The figure was unknown (e.g. `lost` of a reconciliation that did not settle): `ok` is false. */
  unknown?: true;
}

/**
 * The runner's reconciliation fields (outcome, recordedDelta, lost, extra, drainSeconds;
 * undrained, reason and unsettledBy when not settled; net; note), in total only: k6 cannot
 * count accepted votes per hero, so there is no lostByHero/extraByHero.
 */
export type K6Reconciliation = Omit<Reconciliation, 'lostByHero' | 'extraByHero'>;

/** The runner's figures and reconciliation. */
export interface K6Run extends LoadFigures, K6Reconciliation {
  report: typeof SUMMARY_REPORT;
  engine: 'k6';
  /** setup() completed and the load ran; false when setup() threw (k6 still summarises). */
  ran: boolean;
  /** Why the run cannot be judged: it never ran, or it measured no vote. Then `ok` is false. */
  notJudged?: string;
  /** Accepted votes including the warm-up: what the target should record (sum these over k6-operator runners). */
  acceptedTotal: number;
  readErrors: number;
  /** Open model: arrivals k6 could not start for want of a free VU. */
  dropped: number;
  thresholds: ThresholdResult[];
  ok: boolean;
  conditions: Record<string, unknown>;
}

type Figures = Omit<K6Run, 'report' | 'ran' | 'notJudged' | 'thresholds' | 'ok'>;

export function runFromSummary(data: K6SummaryData, s: VoteSettings, extraConditions: Record<string, unknown> = {}): K6Run {
  const value = (metric: string, field: string): number | undefined => data.metrics[metric]?.values[field];
  const count = (metric: string): number => value(metric, 'count') ?? 0;
  const seconds = measuredSeconds(s);
  const accepted = count(K6.votesAccepted);
  const failed = count(K6.votesFailed);
  const errors: Record<string, number> = {};
  for (const c of SUMMARY_CLASSES) {
    const n = count(errorSubmetric(c));
    if (n > 0) errors[c] = n;
  }
  const listed = Object.values(errors).reduce((a, b) => a + b, 0);
  if (failed > listed) errors.http_other = failed - listed;
  // The target also recorded the warm-up's votes.
  const acceptedTotal = accepted + count(K6.warmupVotesAccepted);
  const elapsed = value(K6.drainElapsedSeconds, 'value');
  const drain: DrainReading | undefined =
    elapsed === undefined
      ? undefined
      : {
          recordedDelta: value(K6.recordedDelta, 'value'),
          lastChangeSeconds: value(K6.drainSeconds, 'value') ?? 0,
          stableSeconds: value(K6.drainStableSeconds, 'value') ?? 0,
          elapsedSeconds: elapsed,
          readError: value(K6.drainReadError, 'value') ?? 0,
        };
  const { lostByHero: _lost, extraByHero: _extra, ...reconciliation } = reconcileDrain(drain, acceptedTotal, s);
  const latency = (f: string) => round(value(K6.voteDuration, f) ?? 0);
  const run: Figures = {
    engine: 'k6',
    attempted: count(K6.votesAttempted),
    accepted,
    failed,
    acceptedPerSec: round(accepted / seconds),
    requestsPerSec: round(count(K6.requests) / seconds),
    latencyMs: { p50: latency('med'), p90: latency('p(90)'), p99: latency('p(99)'), p999: latency('p(99.9)'), max: latency('max') },
    errors,
    acceptedTotal,
    readErrors: count(K6.readErrors),
    dropped: count('dropped_iterations'),
    ...reconciliation,
    conditions: conditionsOf(s, data, extraConditions),
  };
  const ran = count(K6.setupCompleted) > 0;
  const notJudged = !ran
    ? 'setup() did not complete, so no load was sent (k6 logged why)'
    : run.attempted === 0
      ? 'no vote was measured'
      : undefined;
  const thresholds = notJudged
    ? s.thresholds.map((t): ThresholdResult => ({ expr: t.source, ok: false, judgedBy: 'none' }))
    : s.thresholds.map((t) => judge(t, data, run, seconds));
  return { report: SUMMARY_REPORT, ...run, ran, ...(notJudged ? { notJudged } : {}), thresholds, ok: !notJudged && thresholds.every((t) => t.ok) };
}

function judge(t: Threshold, data: K6SummaryData, run: Figures, seconds: number): ThresholdResult {
  const k = toK6Threshold(t, seconds);
  const verdict = k && data.metrics[k.metric]?.thresholds?.[k.expression];
  if (verdict) return { expr: t.source, ok: verdict.ok, judgedBy: 'k6' };
  // The reconciliation's figures, or a metric k6 left out because it got no samples:
  // judged on the summary's figures by the runner's evaluation; an unknown figure fails.
  const [outcome] = evaluateRun([t], run);
  return { expr: t.source, ok: outcome!.ok, judgedBy: 'summary', ...(outcome!.unknown ? { unknown: true as const } : {}) };
}

function conditionsOf(s: VoteSettings, data: K6SummaryData, extra: Record<string, unknown>): Record<string, unknown> {
  const m = s.model;
  return {
    engine: 'k6',
    target: s.target,
    model: m.kind,
    ...(m.kind === 'closed' ? { voters: m.voters, thinkSeconds: m.think.seconds } : { rate: m.rate, connections: m.connections }),
    durationSeconds: s.duration.seconds,
    warmupSeconds: s.warmup.seconds,
    measuredSeconds: measuredSeconds(s),
    ...(s.stages ? { stages: s.stages } : {}),
    mix: s.mix,
    distribution: s.distribution,
    timeoutSeconds: s.timeout.seconds,
    drainTimeoutSeconds: s.drainTimeout.seconds,
    parallelism: s.parallelism,
    testRunSeconds: round((data.state?.testRunDurationMs ?? 0) / 1000),
    ...extra,
  };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

const thresholdNote: Record<ThresholdResult['judgedBy'], string> = {
  k6: '',
  summary: '  (judged here, not by k6: not in its exit code)',
  none: '  (not judged: nothing measured)',
};

const thresholdMark = (t: ThresholdResult) => (t.judgedBy === 'none' ? 'n/a' : t.unknown ? 'UNKNOWN' : t.ok ? 'ok' : 'FAIL');

/** A short plain-text report for the terminal (k6's own summary is replaced by handleSummary). */
export function summaryText(run: K6Run): string {
  const c = run.conditions;
  const level = c.model === 'closed' ? `${c.voters} voters` : `${c.rate} requests/s`;
  const load = c.stages ? `stages up to ${level}` : level;
  const errors = Object.entries(run.errors).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const lines = [
    `myhero vote load (k6): ${c.target}, ${c.model} model, ${load}, ${c.measuredSeconds} s measured after ${c.warmupSeconds} s warm-up`,
    ...(run.notJudged ? [`  NOT JUDGED ${run.notJudged}`] : []),
    `  votes      attempted ${run.attempted}  accepted ${run.accepted}  failed ${run.failed}  (${run.acceptedPerSec} accepted/s, ${run.requestsPerSec} requests/s)`,
    `  latency ms p50 ${run.latencyMs.p50}  p90 ${run.latencyMs.p90}  p99 ${run.latencyMs.p99}  p99.9 ${run.latencyMs.p999}  max ${run.latencyMs.max}`,
    `  errors     ${errors}  read errors ${run.readErrors}${run.dropped ? `  dropped ${run.dropped}` : ''}`,
    `  recorded   ${describeReconciliation({ ...run, lostByHero: {}, extraByHero: {} }, run.acceptedTotal)}`,
    ...run.thresholds.map((t) => `  ${thresholdMark(t).padEnd(11)}${t.expr}${thresholdNote[t.judgedBy]}`),
  ];
  return `${lines.join('\n')}\n`;
}
