import type { AppMode } from '../lib/defaults.ts';
import type { Logger } from '../lib/log.ts';
import { median } from './accounting.ts';
import { runLoad, type IntervalSample, type RunConditions, type RunResult } from './engine.ts';
import type { LoadPlan } from './plan.ts';
import type { RunFigures } from './figures.ts';
import type { MetricsTarget } from './reconcile.ts';

// Direct vs queue, back to back: the same plan against each mode, alternating the
// order every trial (ABBA) so warm-up or drift does not favour one mode; then the
// medians, their spread, the ratio and a one-line verdict.

export const MODES = ['direct', 'queue'] as const satisfies readonly AppMode[];

/** Where to send the load for one mode. */
export interface ModeTarget {
  target: string;
  twinMetrics?: MetricsTarget[];
  conditions?: Record<string, unknown>;
}

/** Where the two modes come from: the lab, two deployments, or one Deployment switched in Kubernetes. */
export interface ModeProvider {
  /** Stated in the conditions, e.g. { source: 'lab', storageProfile: 'pi-sd' }. */
  describe: Record<string, unknown>;
  acquire(mode: AppMode, signal?: AbortSignal): Promise<ModeTarget>;
  /** Undo whatever acquire changed (e.g. restore the Deployment); safe to call twice. Interrupted: restore without waiting. */
  close(interrupted: boolean): Promise<void>;
}

export interface TrialRun {
  trial: number;
  mode: AppMode;
  result: RunResult;
}

type Range = [min: number, max: number];

/** A mode's figures over its trials: medians, except `lost` and `extra`, which are totals (a loss in any trial must show). */
export interface ModeSummary extends RunFigures {
  trials: number;
  spread: { acceptedPerSec: Range; p99: Range; drainSeconds: Range };
  lostPerTrial: number[];
  drainTimedOut: boolean;
  /** A run was stopped before its queue drained: its uncounted votes are in `lost` but not proven lost. */
  drainSkipped: boolean;
}

export interface CompareResult {
  modes: Record<AppMode, ModeSummary>;
  /** queue.acceptedPerSec / direct.acceptedPerSec (medians); null when direct accepted nothing. */
  ratio: number | null;
  verdict: string;
  trials: { trial: number; order: AppMode[]; direct?: TrialFigures; queue?: TrialFigures }[];
  conditions: Record<string, unknown>;
  partial: boolean;
}

export interface TrialFigures {
  acceptedPerSec: number;
  failed: number;
  p99: number;
  lost: number;
  extra: number;
  drainSeconds: number;
}

/** Trial 1 runs direct first, trial 2 queue first, and so on. */
export function orderOf(trial: number): AppMode[] {
  return trial % 2 === 1 ? ['direct', 'queue'] : ['queue', 'direct'];
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const range = (v: number[]): Range => (v.length ? [round(Math.min(...v)), round(Math.max(...v))] : [0, 0]);

export function summarizeMode(results: readonly RunResult[]): ModeSummary {
  const m = (f: (r: RunResult) => number) => round(median(results.map(f)), 3);
  const classes = [...new Set(results.flatMap((r) => Object.keys(r.errors)))];
  return {
    attempted: m((r) => r.attempted),
    accepted: m((r) => r.accepted),
    failed: m((r) => r.failed),
    acceptedPerSec: m((r) => r.acceptedPerSec),
    requestsPerSec: m((r) => r.requestsPerSec),
    latencyMs: {
      p50: m((r) => r.latencyMs.p50),
      p90: m((r) => r.latencyMs.p90),
      p99: m((r) => r.latencyMs.p99),
      p999: m((r) => r.latencyMs.p999),
      max: m((r) => r.latencyMs.max),
    },
    errors: Object.fromEntries(classes.map((c) => [c, m((r) => r.errors[c] ?? 0)])),
    recordedDelta: m((r) => r.recordedDelta),
    lost: results.reduce((a, r) => a + r.lost, 0),
    extra: results.reduce((a, r) => a + r.extra, 0),
    drainSeconds: m((r) => r.drainSeconds),
    trials: results.length,
    spread: {
      acceptedPerSec: range(results.map((r) => r.acceptedPerSec)),
      p99: range(results.map((r) => r.latencyMs.p99)),
      drainSeconds: range(results.map((r) => r.drainSeconds)),
    },
    lostPerTrial: results.map((r) => r.lost),
    drainTimedOut: results.some((r) => r.drainTimedOut),
    drainSkipped: results.some((r) => r.drainSkipped),
  };
}

/** One line a person can act on: who wins by how much, whether every accepted vote was counted. */
export function verdictOf(direct: ModeSummary, queue: ModeSummary, ratio: number | null): string {
  const n = Math.min(direct.trials, queue.trials);
  const of = `median of ${n} trial${n === 1 ? '' : 's'}`;
  const rates = `${queue.acceptedPerSec}/s vs ${direct.acceptedPerSec}/s`;
  const everyTrial = n > 1 && queue.spread.acceptedPerSec[0] > direct.spread.acceptedPerSec[1] ? ', in every trial' : '';
  let head: string;
  if (ratio === null) head = `direct mode accepted no votes; queue mode accepted ${queue.acceptedPerSec}/s (${of})`;
  else if (ratio >= 1.1) head = `queue mode accepted ${round(ratio, 2)}× the votes per second of direct mode (${rates}, ${of}${everyTrial})`;
  else if (ratio > 0.9) head = `no clear difference: queue mode accepted ${round(ratio, 2)}× the votes per second of direct mode (${rates}, ${of}) — is the data tier saturated?`;
  else head = `direct mode accepted more votes per second than queue mode (${rates}, ratio ${round(ratio, 2)}, ${of})`;
  const uncounted = MODES.map((mode) => ({ mode, s: mode === 'direct' ? direct : queue })).filter((x) => x.s.lost > 0);
  const lost = uncounted.filter((x) => !x.s.drainSkipped);
  const unknown = uncounted.filter((x) => x.s.drainSkipped);
  if (!uncounted.length) return `${head}; every accepted vote was counted in both modes (queue drained in ${queue.drainSeconds} s)`;
  return (
    head +
    (lost.length ? `; LOST accepted votes: ${lost.map((x) => `${x.mode} ${x.s.lost}`).join(', ')}` : '') +
    (unknown.length ? `; stopped before the drain, not yet counted: ${unknown.map((x) => `${x.mode} ${x.s.lost}`).join(', ')}` : '')
  );
}

export function summarizeCompare(runs: readonly TrialRun[], conditions: Record<string, unknown>, partial: boolean): CompareResult {
  const of = (mode: AppMode) => runs.filter((r) => r.mode === mode).map((r) => r.result);
  const direct = summarizeMode(of('direct'));
  const queue = summarizeMode(of('queue'));
  const ratio = direct.acceptedPerSec > 0 ? round(queue.acceptedPerSec / direct.acceptedPerSec, 2) : null;
  const figures = (r: RunResult): TrialFigures => ({
    acceptedPerSec: r.acceptedPerSec,
    failed: r.failed,
    p99: r.latencyMs.p99,
    lost: r.lost,
    extra: r.extra,
    drainSeconds: r.drainSeconds,
  });
  const trialNumbers = [...new Set(runs.map((r) => r.trial))];
  return {
    modes: { direct, queue },
    ratio,
    verdict: (partial ? 'PARTIAL (stopped early): ' : '') + verdictOf(direct, queue, ratio),
    trials: trialNumbers.map((trial) => {
      const d = runs.find((r) => r.trial === trial && r.mode === 'direct');
      const q = runs.find((r) => r.trial === trial && r.mode === 'queue');
      return { trial, order: orderOf(trial), ...(d ? { direct: figures(d.result) } : {}), ...(q ? { queue: figures(q.result) } : {}) };
    }),
    conditions,
    partial,
  };
}

export interface CompareOptions {
  trials: number;
  signal?: AbortSignal;
  log?: Logger;
  /** Before each run (e.g. to label the progress line). */
  onRunStart?: (trial: number, mode: AppMode) => void;
  onSample?: (mode: AppMode, s: IntervalSample) => void;
  onDrain?: (mode: AppMode, recordedDelta: number, backlog: number | undefined, elapsedSeconds: number) => void;
  onRunEnd?: (run: TrialRun) => void;
}

/**
 * Run the plan against each mode, `trials` times, alternating the order. The plan's
 * target comes from the provider. The provider is always closed (and a Kubernetes
 * change restored), also on failure and Ctrl-C.
 */
export async function runCompare(plan: Omit<LoadPlan, 'target'>, provider: ModeProvider, opts: CompareOptions): Promise<{ result: CompareResult; runs: TrialRun[] }> {
  const runs: TrialRun[] = [];
  let conditions: RunConditions | undefined;
  try {
    for (let trial = 1; trial <= opts.trials && !opts.signal?.aborted; trial++) {
      for (const mode of orderOf(trial)) {
        if (opts.signal?.aborted) break;
        opts.onRunStart?.(trial, mode);
        const target = await provider.acquire(mode, opts.signal);
        if (opts.signal?.aborted) break;
        const result = await runLoad(
          { ...plan, target: target.target, ...(target.twinMetrics ? { twinMetrics: target.twinMetrics } : {}) },
          {
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(opts.log ? { log: opts.log } : {}),
            onSample: (s) => opts.onSample?.(mode, s),
            onDrain: (d, b, e) => opts.onDrain?.(mode, d, b, e),
            conditions: { mode, trial, ...target.conditions },
          },
        );
        conditions ??= result.conditions;
        const run = { trial, mode, result };
        runs.push(run);
        opts.onRunEnd?.(run);
      }
    }
  } finally {
    await provider.close(Boolean(opts.signal?.aborted));
  }
  const partial = Boolean(opts.signal?.aborted) || runs.some((r) => r.result.partial);
  const { mode: _m, trial: _t, target: _target, ...shared } = conditions ?? ({} as Partial<RunConditions>);
  const result = summarizeCompare(runs, { ...shared, ...provider.describe, trials: opts.trials, trialsRun: new Set(runs.map((r) => r.trial)).size }, partial);
  return { result, runs };
}
