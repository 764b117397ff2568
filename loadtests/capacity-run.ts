import { silentLogger, type Logger } from '../lib/log.ts';
import { describeKnee, judgeStep, kneeOf, nextStep, type CapacityStep, type Knee, type SearchSettings, type Slo, type StepFigures, type StepPhase } from './capacity.ts';
import { runLoad, type IntervalSample, type RunResult } from './engine.ts';
import type { LoadPlan } from './plan.ts';
import type { BacklogPoint, HeroCounts, Reconciliation } from './reconcile.ts';
import { openSession } from './session.ts';
import { now } from './shard.ts';

// The capacity search against a target (wrk2/vegeta style: open model, fixed
// arrival rates): one load per step, each judged against the SLO before the next
// rate is chosen (capacity.ts), a short settle between steps so each starts from
// an idle target, the backlog read at the end of every step, and one
// reconciliation of all the steps' votes after the last.

export interface CapacityPlan {
  /** What every step sends and to whom (the model, length and reconciliation are the search's). */
  load: Pick<LoadPlan, 'target' | 'key' | 'mix' | 'timeoutMs' | 'workers' | 'twinMetrics' | 'appMode' | 'seed'>;
  /** Connections per step (default: the step's rate, 10–1000, enough for answers up to ~1 s). */
  connections?: number;
  search: SearchSettings;
  stepMs: number;
  /** Pause after each step (its last answer) before the next. */
  settleMs: number;
  slo: Slo;
  /** Reconcile all the steps' votes after the last one; false to skip. */
  reconcile: LoadPlan['reconcile'];
}

export interface CapacityResult extends Knee {
  slo: Slo;
  search: SearchSettings & { stepSeconds: number; settleSeconds: number };
  steps: CapacityStep[];
  /** The knee in one line. */
  verdict: string;
  /** Every step's votes against the votes the target recorded, after the drain. */
  reconciliation: Reconciliation;
  /** Votes accepted over all steps. */
  acceptedTotal: number;
  acceptedByHero: HeroCounts;
  /** Per-second samples of all steps, t in seconds since the search started. */
  series: IntervalSample[];
  /** Backlog (and votes recorded) over the search and its drain, t since the search started. */
  backlog: BacklogPoint[];
  /** Seconds from the first step's start to the last step's last answer. */
  loadSeconds: number;
  conditions: Record<string, unknown>;
  /** Stopped early (Ctrl-C). */
  partial: boolean;
  /** Set when the search could not be judged: the target went away during a step. */
  unjudged?: string;
  startedAt: string;
}

export interface CapacityOptions {
  signal?: AbortSignal;
  log?: Logger;
  onStepStart?: (step: number, rate: number, phase: StepPhase) => void;
  onStep?: (step: CapacityStep) => void;
  onSample?: (s: IntervalSample) => void;
  onDrain?: (recordedDelta: number | undefined, backlog: number | undefined, elapsedSeconds: number) => void;
  /** Extra conditions to state (mode, storage profile, ...). */
  conditions?: Record<string, unknown>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A step's figures from its run. */
function stepFigures(r: RunResult, offeredPerSec: number, stepMs: number, backlogAtEnd: number | null): StepFigures {
  const requests = r.series.reduce((n, s) => n + s.requests, 0);
  return {
    offeredPerSec,
    durationSeconds: stepMs / 1000,
    requests,
    windowSeconds: r.measuredSeconds,
    achievedPerSec: Math.round((requests / r.measuredSeconds) * 10) / 10,
    attempted: r.attempted,
    accepted: r.accepted,
    failed: r.failed,
    errors: r.errors,
    acceptedPerSec: r.acceptedPerSec,
    latencyMs: r.latencyMs,
    dropped: r.dropped,
    generator: { busy: r.generatorBusy, lagP99Ms: r.generatorLagMs.p99 },
    targetSilenceMs: r.targetSilenceMs,
    backlogAtEnd,
  };
}

/** Search for the highest arrival rate the target sustains within the SLO. */
export async function runCapacity(plan: CapacityPlan, opts: CapacityOptions = {}): Promise<CapacityResult> {
  const { signal } = opts;
  const log = opts.log ?? silentLogger;
  const session = await openSession({ ...plan.load, reconcile: plan.reconcile }, signal);
  const started = new Date();
  const t0 = now();
  const since = () => Math.round((now() - t0) / 100) / 10;
  const steps: CapacityStep[] = [];
  const series: IntervalSample[] = [];
  const backlog: BacklogPoint[] = [];
  const acceptedByHero: HeroCounts = {};
  let acceptedTotal = 0;
  let acceptedSoFar = 0;
  let conditions: Record<string, unknown> | undefined;
  let unjudged: string | undefined;
  let partial = false;
  let loadEnd = t0;

  const pollBacklog = async () => {
    const point = await session.readBacklog(acceptedSoFar).catch(() => undefined);
    if (point) backlog.push({ t: since(), ...point });
    return point;
  };
  const backlogTimer = session.backlogSource === 'none' ? undefined : setInterval(() => void pollBacklog(), 1000);
  try {
    for (let next = nextStep(steps, plan.search); next && !signal?.aborted; next = nextStep(steps, plan.search)) {
      const number = steps.length + 1;
      opts.onStepStart?.(number, next.rate, next.phase);
      const offset = (now() - t0) / 1000;
      const r = await runLoad(
        {
          ...plan.load,
          twinMetrics: undefined,
          mix: { ...plan.load.mix, heroes: session.heroes },
          model: { kind: 'open', rate: next.rate, ...(plan.connections ? { connections: plan.connections } : {}) },
          durationMs: plan.stepMs,
          reconcile: false,
          seed: ((plan.load.seed ?? 1) + number * 104_729) >>> 0,
        },
        {
          ...(signal ? { signal } : {}),
          log,
          onSample: (s) => {
            acceptedSoFar += s.accepted;
            const shifted = { ...s, t: Math.round(offset + s.t) };
            series.push(shifted);
            opts.onSample?.(shifted);
          },
          conditions: opts.conditions ?? {},
        },
      );
      loadEnd = now();
      conditions ??= r.conditions;
      acceptedTotal += r.acceptedTotal;
      for (const [h, n] of Object.entries(r.acceptedByHero)) acceptedByHero[h] = (acceptedByHero[h] ?? 0) + n;
      if (r.partial) {
        partial = true;
        break;
      }
      const atEnd = await pollBacklog();
      const figures = stepFigures(r, next.rate, plan.stepMs, atEnd?.votes ?? null);
      const step: CapacityStep = { step: number, phase: next.phase, startSeconds: Math.round(offset * 10) / 10, ...figures, ...judgeStep(figures, plan.slo) };
      steps.push(step);
      opts.onStep?.(step);
      log.debug({ step: number, rate: next.rate, ok: step.ok, brokeBy: step.brokeBy }, 'capacity step judged');
      if (r.unjudged) {
        unjudged = `step ${number} (${next.rate}/s): ${r.unjudged}`;
        break;
      }
      await sleep(plan.settleMs, signal);
    }
  } finally {
    clearInterval(backlogTimer);
  }
  partial ||= Boolean(signal?.aborted);

  const drainStart = now();
  const reconciliation = await session.drain(acceptedByHero, (recorded, votes) => {
    if (votes !== undefined) backlog.push({ t: since(), votes, ...(recorded !== undefined ? { recorded } : {}) });
    opts.onDrain?.(recorded, votes, (now() - drainStart) / 1000);
  });
  const knee = kneeOf(steps);
  const search = { ...plan.search, stepSeconds: plan.stepMs / 1000, settleSeconds: plan.settleMs / 1000 };
  const { rate: _r, connections: _c, durationSeconds: _d, stages: _s, ...shared } = conditions ?? {};
  return {
    ...knee,
    slo: plan.slo,
    search,
    steps,
    verdict: steps.length ? describeKnee(knee, steps, plan.slo, plan.search.maxRate) : 'no step was judged',
    reconciliation,
    acceptedTotal,
    acceptedByHero,
    series,
    backlog,
    loadSeconds: Math.round(((loadEnd - t0) / 1000) * 10) / 10,
    conditions: { ...shared, model: 'open (capacity search)', search, slo: plan.slo, ...(plan.connections ? { connections: plan.connections } : {}) },
    partial,
    ...(unjudged ? { unjudged } : {}),
    startedAt: started.toISOString(),
  };
}
