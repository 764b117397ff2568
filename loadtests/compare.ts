import { APP_MODES, type AppMode } from '../lib/defaults.ts';
import type { Logger } from '../lib/log.ts';
import { median } from './accounting.ts';
import type { CapacityStep } from './capacity.ts';
import { runCapacity, type CapacityResult } from './capacity-run.ts';
import { runLoad, type IntervalSample, type RunConditions, type RunResult } from './engine.ts';
import type { LoadPlan } from './plan.ts';
import type { RunFigures } from './figures.ts';
import { burstFigures, capacityRatio, capacitySummary, lostOverall, proofVerdict, type ProofFigures, type ProofSettings } from './proof.ts';
import type { MetricsTarget } from './reconcile.ts';
import type { StoredRate } from './stored-rate.ts';
import { probeTarget, readCountsBefore } from './target.ts';

// Direct vs queue, back to back: the same plan against each mode, alternating the
// order every trial (ABBA) so warm-up or drift does not favour one mode; then the
// medians, their spread, the ratio and a one-line verdict. With the capacity
// proof (proof.ts, what `demo` runs): a capacity search per mode before the
// trials and a burst per mode after them, and the verdict paragraph.

/** Where to send the load for one mode. */
export interface ModeTarget {
  target: string;
  twinMetrics?: MetricsTarget[];
  conditions?: Record<string, unknown>;
  /** Kill the queue's consumer and start a new one (the lab's ernst), when the provider can. */
  restartConsumer?: () => Promise<void>;
}

/** Where the two modes come from: the lab, two deployments, or one Deployment switched in Kubernetes. */
export interface ModeProvider {
  /** Stated in the conditions, e.g. { source: 'lab', storageProfile: 'pi-sd' }. */
  describe: Record<string, unknown>;
  acquire(mode: AppMode, signal?: AbortSignal): Promise<ModeTarget>;
  /**
   * The targets to check before trial 1, without changing anything (a provider that must change
   * the system to reach a mode, like the Kubernetes switch, lists only what it can reach as is).
   */
  preflight?(signal?: AbortSignal): Promise<ModeTarget[]>;
  /** Undo whatever acquire changed (e.g. restore the Deployment); safe to call twice. Interrupted: restore without waiting. */
  close(interrupted: boolean): Promise<void>;
}

export interface TrialRun {
  trial: number;
  mode: AppMode;
  result: RunResult;
}

type Range = [min: number, max: number];

/**
 * A mode's figures over its trials: medians, except `lost` and `extra`, which are totals (a loss
 * in any trial must show). `outcome` is `lost` if any trial lost votes, else `not-settled` if any
 * trial did not settle (then `lost` is null), else `counted`.
 */
export interface ModeSummary extends RunFigures, StoredRate {
  trials: number;
  spread: { acceptedPerSec: Range; p99: Range; drainSeconds: Range };
  lostPerTrial: (number | null)[];
  /** Trials whose reconciliation did not settle, with why. */
  notSettled: { trial: number; undrained: number | null; reason: string }[];
}

export interface CompareResult extends ProofFigures {
  modes: Record<AppMode, ModeSummary>;
  /** queue.acceptedPerSec / direct.acceptedPerSec (medians); null when direct accepted nothing. */
  ratio: number | null;
  /** With the capacity searches: queue.sustainedPerSec / direct.sustainedPerSec. */
  capacityRatio?: number | null;
  /** Per mode, votes lost over the trials, the capacity search and the burst (null: some part did not settle, none lost). */
  lostOverall: Record<AppMode, number | null>;
  verdict: string;
  trials: { trial: number; order: AppMode[]; direct?: TrialFigures; queue?: TrialFigures }[];
  conditions: Record<string, unknown>;
  partial: boolean;
}

export interface TrialFigures {
  acceptedPerSec: number;
  failed: number;
  p99: number;
  outcome: RunResult['outcome'];
  lost: number | null;
  extra: number | null;
  drainSeconds: number | null;
}

/** Trial 1 runs direct first, trial 2 queue first, and so on. */
export function orderOf(trial: number): AppMode[] {
  return trial % 2 === 1 ? ['direct', 'queue'] : ['queue', 'direct'];
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const range = (v: number[]): Range => (v.length ? [round(Math.min(...v)), round(Math.max(...v))] : [0, 0]);

const known = (v: (number | null)[]) => v.filter((x): x is number => x !== null);
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
function addCounts(runs: readonly RunResult[], pick: (r: RunResult) => Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** `trials` numbers the runs (1, 2, ...) in the order given unless the caller passes them. */
export function summarizeMode(results: readonly RunResult[], trials: readonly number[] = results.map((_, i) => i + 1)): ModeSummary {
  const m = (f: (r: RunResult) => number) => round(median(results.map(f)), 3);
  const mk = (f: (r: RunResult) => number | null) => {
    const v = known(results.map(f));
    return v.length ? round(median(v), 3) : null;
  };
  const classes = [...new Set(results.flatMap((r) => Object.keys(r.errors)))];
  const unsettled = results.flatMap((r, i) => (r.outcome === 'not-settled' ? [{ trial: trials[i]!, undrained: r.undrained ?? null, reason: r.reason ?? 'not settled' }] : []));
  const lostKnown = sum(known(results.map((r) => r.lost)));
  const outcome: ModeSummary['outcome'] = lostKnown > 0 ? 'lost' : unsettled.length ? 'not-settled' : 'counted';
  const settled = unsettled.length === 0;
  const nets = results.map((r) => r.net);
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
    loadSeconds: m((r) => r.loadSeconds),
    recordedPerSec: settled ? mk((r) => r.recordedPerSec) : null,
    backlogAtLoadEnd: mk((r) => r.backlogAtLoadEnd),
    backlogGrowthPerSec: mk((r) => r.backlogGrowthPerSec),
    predictedDrainSeconds: mk((r) => r.predictedDrainSeconds),
    outcome,
    recordedDelta: mk((r) => r.recordedDelta),
    // A loss in any trial shows even if another did not settle; otherwise unknown until all settled.
    lost: lostKnown > 0 || settled ? lostKnown : null,
    extra: settled ? sum(known(results.map((r) => r.extra))) : null,
    drainSeconds: settled ? mk((r) => r.drainSeconds) : null,
    ...(unsettled.length ? { undrained: sum(known(unsettled.map((u) => u.undrained))), reason: unsettled.map((u) => `trial ${u.trial}: ${u.reason}`).join('; ') } : {}),
    lostByHero: addCounts(results, (r) => r.lostByHero),
    extraByHero: addCounts(results, (r) => r.extraByHero),
    net: nets.every((n) => n !== null) ? { lost: sum(nets.map((n) => n!.lost)), extra: sum(nets.map((n) => n!.extra)) } : null,
    trials: results.length,
    spread: {
      acceptedPerSec: range(results.map((r) => r.acceptedPerSec)),
      p99: range(results.map((r) => r.latencyMs.p99)),
      drainSeconds: range(known(results.map((r) => r.drainSeconds))),
    },
    lostPerTrial: results.map((r) => r.lost),
    notSettled: unsettled,
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
  const modes = APP_MODES.map((mode) => ({ mode, s: mode === 'direct' ? direct : queue }));
  const lost = modes.filter((x) => (x.s.lost ?? 0) > 0);
  const unsettled = modes.filter((x) => x.s.notSettled.length > 0);
  if (!lost.length && !unsettled.length) return `${head}; every accepted vote was counted in both modes (queue drained in ${queue.drainSeconds} s)`;
  const notSettled = unsettled.map(({ mode, s }) => `${mode} ${s.undrained ?? 'unknown'} not yet counted (${s.notSettled.map((u) => `trial ${u.trial}: ${u.reason}`).join('; ')})`);
  return (
    head +
    (lost.length ? `; LOST accepted votes: ${lost.map((x) => `${x.mode} ${x.s.lost}`).join(', ')}` : '') +
    (unsettled.length ? `; NOT SETTLED, not proven lost: ${notSettled.join(', ')}` : '')
  );
}

export function summarizeCompare(runs: readonly TrialRun[], conditions: Record<string, unknown>, partial: boolean, proof: ProofFigures = {}): CompareResult {
  const of = (mode: AppMode) => runs.filter((r) => r.mode === mode);
  const summary = (mode: AppMode) =>
    summarizeMode(
      of(mode).map((r) => r.result),
      of(mode).map((r) => r.trial),
    );
  const direct = summary('direct');
  const queue = summary('queue');
  const ratio = direct.acceptedPerSec > 0 ? round(queue.acceptedPerSec / direct.acceptedPerSec, 2) : null;
  const figures = (r: RunResult): TrialFigures => ({
    acceptedPerSec: r.acceptedPerSec,
    failed: r.failed,
    p99: r.latencyMs.p99,
    outcome: r.outcome,
    lost: r.lost,
    extra: r.extra,
    drainSeconds: r.drainSeconds,
  });
  const trialNumbers = [...new Set(runs.map((r) => r.trial))];
  const lost = { direct: lostOverall('direct', direct, proof), queue: lostOverall('queue', queue, proof) };
  const proven = Boolean(proof.capacity || proof.burst);
  const offered = runs[0]?.result.conditions.model === 'open' ? runs[0].result.conditions.rate : undefined;
  return {
    modes: { direct, queue },
    ratio,
    ...(proof.capacity ? { capacityRatio: capacityRatio(proof) } : {}),
    ...proof,
    lostOverall: lost,
    verdict: (partial ? 'PARTIAL (stopped early): ' : '') + (proven ? proofVerdict({ direct, queue }, proof, offered, lost) : verdictOf(direct, queue, ratio)),
    trials: trialNumbers.map((trial) => {
      const d = runs.find((r) => r.trial === trial && r.mode === 'direct');
      const q = runs.find((r) => r.trial === trial && r.mode === 'queue');
      return { trial, order: orderOf(trial), ...(d ? { direct: figures(d.result) } : {}), ...(q ? { queue: figures(q.result) } : {}) };
    }),
    conditions,
    partial,
  };
}

export interface CompareOptions extends ProofSettings {
  trials: number;
  /** Seconds into each queue-mode trial at which the provider restarts the queue's consumer (ernst). */
  restartConsumerAt?: number;
  /** Before the capacity search and the burst of each mode. */
  onPhaseStart?: (phase: 'capacity' | 'burst', mode: AppMode) => void;
  onStep?: (mode: AppMode, step: CapacityStep) => void;
  signal?: AbortSignal;
  log?: Logger;
  /** Before each run (e.g. to label the progress line). */
  onRunStart?: (trial: number, mode: AppMode) => void;
  onSample?: (mode: AppMode, s: IntervalSample) => void;
  onDrain?: (mode: AppMode, recordedDelta: number | undefined, backlog: number | undefined, elapsedSeconds: number) => void;
  onRunEnd?: (run: TrialRun) => void;
}

/** Everything a comparison ran: the trials, and the capacity searches and bursts when asked for. */
export interface CompareRuns {
  result: CompareResult;
  runs: TrialRun[];
  capacity: Partial<Record<AppMode, CapacityResult>>;
  bursts: Partial<Record<AppMode, RunResult>>;
}

/**
 * Run the plan against each mode, `trials` times, alternating the order; with `capacity`, a
 * capacity search per mode first (direct, then queue); with `burst`, a burst per mode last
 * (queue, then direct: a burst leaves direct mode's data tier busy after its answers timed out).
 * The plan's target comes from the provider. The provider is always closed (and a Kubernetes
 * change restored), also on failure and Ctrl-C.
 */
export async function runCompare(plan: Omit<LoadPlan, 'target'>, provider: ModeProvider, opts: CompareOptions): Promise<CompareRuns> {
  const runs: TrialRun[] = [];
  const capacity: CompareRuns['capacity'] = {};
  const bursts: CompareRuns['bursts'] = {};
  const { signal } = opts;
  const aborted = () => Boolean(signal?.aborted);
  let conditions: RunConditions | undefined;
  const loadOf = (mode: AppMode, target: ModeTarget) => ({
    key: plan.key,
    ...(plan.mix ? { mix: plan.mix } : {}),
    ...(plan.timeoutMs ? { timeoutMs: plan.timeoutMs } : {}),
    ...(plan.workers ? { workers: plan.workers } : {}),
    ...(plan.seed !== undefined ? { seed: plan.seed } : {}),
    target: target.target,
    appMode: mode,
    ...(target.twinMetrics ? { twinMetrics: target.twinMetrics } : {}),
  });
  const watch = (mode: AppMode) => ({
    ...(signal ? { signal } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    onSample: (s: IntervalSample) => opts.onSample?.(mode, s),
    onDrain: (d: number | undefined, b: number | undefined, e: number) => opts.onDrain?.(mode, d, b, e),
  });
  try {
    // Every target answers, with its data tier, before trial 1: not after a whole trial of the other mode.
    const targets = (await provider.preflight?.(signal)) ?? [];
    await Promise.all(targets.map(async (t) => (await probeTarget(t.target, plan.key, signal), await readCountsBefore(t.target, plan.key, signal))));
    for (const mode of opts.capacity ? APP_MODES : []) {
      if (aborted()) break;
      opts.onPhaseStart?.('capacity', mode);
      const target = await provider.acquire(mode, signal);
      if (aborted()) break;
      capacity[mode] = await runCapacity(
        { ...opts.capacity!, load: loadOf(mode, target) },
        { ...watch(mode), onStep: (step) => opts.onStep?.(mode, step), conditions: { mode, ...target.conditions } },
      );
    }
    for (let trial = 1; trial <= opts.trials && !aborted(); trial++) {
      for (const mode of orderOf(trial)) {
        if (aborted()) break;
        opts.onRunStart?.(trial, mode);
        const target = await provider.acquire(mode, signal);
        if (aborted()) break;
        const restartAt = mode === 'queue' && target.restartConsumer ? opts.restartConsumerAt : undefined;
        let restarted: Promise<void> | undefined;
        const result = await runLoad(
          { ...plan, ...loadOf(mode, target) },
          {
            ...watch(mode),
            onSample: (s) => {
              // The consumer dies and comes back while votes keep coming: does the queue keep them?
              if (restartAt !== undefined && s.t + 1 >= restartAt) restarted ??= target.restartConsumer!();
              opts.onSample?.(mode, s);
            },
            conditions: { mode, trial, ...target.conditions, ...(restartAt !== undefined ? { consumerRestartAtSeconds: restartAt } : {}) },
          },
        );
        await restarted;
        conditions ??= result.conditions;
        const run = { trial, mode, result };
        runs.push(run);
        opts.onRunEnd?.(run);
      }
    }
    for (const mode of opts.burst ? (['queue', 'direct'] as const) : []) {
      if (aborted()) break;
      opts.onPhaseStart?.('burst', mode);
      const target = await provider.acquire(mode, signal);
      if (aborted()) break;
      bursts[mode] = await runLoad(
        { ...loadOf(mode, target), model: { kind: 'open', rate: opts.burst! }, durationMs: 1000, ...(plan.reconcile !== undefined ? { reconcile: plan.reconcile } : {}) },
        { ...watch(mode), conditions: { mode, ...target.conditions } },
      );
    }
  } finally {
    await provider.close(aborted());
  }
  const partial = aborted() || runs.some((r) => r.result.partial) || Object.values(capacity).some((c) => c.partial) || Object.values(bursts).some((b) => b.partial);
  const { mode: _m, trial: _t, target: _target, ...shared } = conditions ?? ({} as Partial<RunConditions>);
  const proof: ProofFigures = {
    ...(opts.capacity ? { capacity: { slo: opts.capacity.slo, ...Object.fromEntries(Object.entries(capacity).map(([m, c]) => [m, capacitySummary(c)])) } } : {}),
    ...(opts.burst ? { burst: Object.fromEntries(Object.entries(bursts).map(([m, b]) => [m, burstFigures(opts.burst!, b)])) } : {}),
  };
  const described = {
    ...shared,
    ...provider.describe,
    trials: opts.trials,
    trialsRun: new Set(runs.map((r) => r.trial)).size,
    ...(opts.capacity ? { capacitySearch: { ...opts.capacity.search, stepSeconds: opts.capacity.stepMs / 1000, settleSeconds: opts.capacity.settleMs / 1000 } } : {}),
    ...(opts.burst ? { burstVotes: opts.burst } : {}),
    ...(opts.restartConsumerAt !== undefined ? { consumerRestartAtSeconds: opts.restartConsumerAt } : {}),
  };
  const result = summarizeCompare(runs, described, partial, proof);
  return { result, runs, capacity, bursts };
}
