import type { LoadFigures } from './figures.ts';
import type { Stage } from './schedule.ts';

// The capacity search, pure: the SLO that defines "sustained", how one fixed-rate
// step is judged — and whether the load generator rather than the target explains
// a failure —, which rate to try next (geometric growth, then a refinement
// between the last good and the first bad step), and the knee. The steps run in
// capacity-run.ts.

/** What "sustained" means: every step must keep all three. */
export interface Slo {
  /** Accepted-vote p99 latency (from the intended send time) at most this. */
  p99Ms: number;
  /** Failed votes / attempted votes at most this (0.01 = 1 %). */
  maxFailedRate: number;
  /** Requests answered per second at least this share of the offered rate (0.95 = 95 %). */
  minAchievedRatio: number;
}

export const SLO_DEFAULTS: Slo = { p99Ms: 1000, maxFailedRate: 0.01, minAchievedRatio: 0.95 };

export interface SearchSettings {
  /** First rate tried (requests/s). */
  startRate: number;
  /** Never offer more than this; the search ends there if nothing broke. */
  maxRate: number;
  /** Each growth step multiplies the rate by this. */
  growth: number;
  /** Steps between the last good and the first bad rate (geometric bisection). */
  refineSteps: number;
}

export const SEARCH_DEFAULTS: SearchSettings & { stepMs: number; settleMs: number } = {
  startRate: 10,
  maxRate: 5000,
  growth: 2,
  refineSteps: 3,
  stepMs: 5000,
  settleMs: 1000,
};

/** Below this the search does not go: 1 request/s. */
const MIN_RATE = 1;
/** At most this many steps down when even the start rate broke. */
const MAX_DOWN_STEPS = 4;
/**
 * A generator thread whose event loop was busy this share of a step or more had no time to
 * spare: it could not have sent faster, so a shortfall in that step is the load machine's.
 */
export const GENERATOR_BUSY_LIMIT = 0.9;
/**
 * A generator whose timers fired this share of the SLO's p99 late (p99) or later was starved
 * (1 s SLO: 100 ms); below it, its lateness is the ordinary jitter of a shared machine and
 * excuses nothing.
 */
const STARVED_LAG_SHARE = 0.1;
/**
 * A step that fell short of the achieved-rate SLO by less than this (0.90–0.95 by default),
 * with latency and failures within the SLO, is run once more: on a 1 s step one late answer
 * of 50 ms costs 5 points, and a busy machine has such moments; a real overload breaks again.
 */
const MARGIN = 0.05;
/**
 * A target silent for this share of the SLO's p99 (200 ms of 1 s), and for three times the
 * step's median latency, stalled: a steady pace answers all the time, slow or not.
 */
const STALL_SHARE = 0.2;

/** What broke a step: the target's latency, failures or throughput, or the load generator itself. */
export type BrokeBy = 'latency' | 'failures' | 'throughput' | 'generator';

/**
 * One fixed-rate step as measured (votes only unless the mix says otherwise): the load's figures
 * (attempted, accepted, failed by class, accepted/s, vote latency from the intended send time), and:
 */
export interface StepFigures extends Omit<LoadFigures, 'requestsPerSec'> {
  offeredPerSec: number;
  durationSeconds: number;
  /** Requests that went out (answered or failed) and were due in the step. */
  requests: number;
  /** From the step's start to its last answer (≥ its length when answers came late). */
  windowSeconds: number;
  /** Requests answered or failed per second of the window. */
  achievedPerSec: number;
  /** Arrivals no free connection could send (the target held every connection). */
  dropped: number;
  /** The load generator during the step: its busiest thread's event-loop busy share, and how late its timers fired (p99). */
  generator: { busy: number; lagP99Ms: number };
  /** The longest the target held a request without answering anything (ms). */
  targetSilenceMs: number;
  /** Accepted votes not yet recorded when the step ended; null when unknown. */
  backlogAtEnd: number | null;
}

export interface StepVerdict {
  ok: boolean;
  brokeBy?: BrokeBy;
  /**
   * Why one more run of this step is worth it: it fell short of the achieved rate by less than
   * MARGIN, or the target went silent for a while (a stall of a shared machine, a pause) — one
   * moment, not a pace. A real overload breaks again.
   */
  doubt?: 'margin' | 'stall';
  /** One line: the figures that decided. */
  why: string;
}

export type StepPhase = 'grow' | 'down' | 'refine' | 'retry';

export interface CapacityStep extends StepFigures, StepVerdict {
  /** 1-based, in the order run. */
  step: number;
  phase: StepPhase;
  /** Seconds after the search started. */
  startSeconds: number;
}

/** Failures by class, most first: `vote_failed 12, timeout 3`. */
export const errorClasses = (e: Record<string, number>) =>
  Object.entries(e)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const ms = (x: number) => (x >= 1000 ? `${Math.round(x / 100) / 10} s` : `${Math.round(x)} ms`);
const rate = (x: number) => `${Math.round(x * 10) / 10}/s`;

/** The SLO in words, e.g. "p99 ≤ 1 s, failed ≤ 1 %, achieved ≥ 95 % of offered". */
export const describeSlo = (slo: Slo) => `p99 ≤ ${ms(slo.p99Ms)}, failed ≤ ${pct(slo.maxFailedRate)}, achieved ≥ ${pct(slo.minAchievedRatio)} of offered`;

/**
 * Judge one step against the SLO. A failed step is the generator's when its busiest thread had
 * no spare time, or when it was starved (its timers late by a tenth of the SLO's p99 or more)
 * and its own lateness alone explains the latency or throughput shortfall (had its timers fired
 * on time, the step would have passed); otherwise the target's: failures first, then latency,
 * then throughput.
 */
export function judgeStep(f: StepFigures, slo: Slo): StepVerdict {
  const failedRate = f.attempted ? f.failed / f.attempted : 0;
  const ratio = f.offeredPerSec > 0 ? f.achievedPerSec / f.offeredPerSec : 1;
  const failures = failedRate > slo.maxFailedRate;
  const latency = f.latencyMs.p99 > slo.p99Ms;
  const throughput = ratio < slo.minAchievedRatio || f.requests === 0;
  const summary = `p99 ${ms(f.latencyMs.p99)}, failed ${pct(failedRate)}, achieved ${rate(f.achievedPerSec)} of ${rate(f.offeredPerSec)} (${pct(ratio)})`;
  if (!failures && !latency && !throughput) return { ok: true, why: summary };
  const stalled = f.targetSilenceMs >= Math.max(STALL_SHARE * slo.p99Ms, 3 * f.latencyMs.p50);
  const stall = stalled ? { doubt: 'stall' as const, why: `; the target answered nothing for ${ms(f.targetSilenceMs)}` } : { why: '' };
  const lag = f.generator.lagP99Ms;
  const starved = lag >= STARVED_LAG_SHARE * slo.p99Ms;
  if (f.generator.busy >= GENERATOR_BUSY_LIMIT) {
    return { ok: false, brokeBy: 'generator', why: `the load generator was busy ${pct(f.generator.busy)} of the step: it could not send ${rate(f.offeredPerSec)} (${summary})` };
  }
  if (failures) {
    return { ok: false, brokeBy: 'failures', ...(stalled ? { doubt: 'stall' } : {}), why: `${pct(failedRate)} of votes failed (${errorClasses(f.errors)}) > ${pct(slo.maxFailedRate)}; ${summary}${stall.why}` };
  }
  if (latency) {
    if (starved && f.latencyMs.p99 - lag <= slo.p99Ms) {
      return { ok: false, brokeBy: 'generator', why: `p99 ${ms(f.latencyMs.p99)} > ${ms(slo.p99Ms)}, but the generator's own timers fired up to ${ms(lag)} late (p99): the load machine, not the target, was slow` };
    }
    return { ok: false, brokeBy: 'latency', ...(stalled ? { doubt: 'stall' } : {}), why: `p99 ${ms(f.latencyMs.p99)} > ${ms(slo.p99Ms)}; ${summary}${stall.why}` };
  }
  // The window stretches past the step when answers come late; the generator's lateness may account for the stretch.
  const onTime = Math.max(f.durationSeconds, f.windowSeconds - lag / 1000);
  if (starved && f.requests > 0 && f.requests / onTime / f.offeredPerSec >= slo.minAchievedRatio) {
    return { ok: false, brokeBy: 'generator', why: `achieved ${pct(ratio)} of offered, but the generator's own timers fired up to ${ms(lag)} late (p99): the load machine, not the target, was slow` };
  }
  const held = f.dropped > 0 ? `; ${f.dropped} arrivals found no free connection (the target held them all)` : '';
  const doubt = stalled ? ({ doubt: 'stall' } as const) : ratio >= slo.minAchievedRatio - MARGIN ? ({ doubt: 'margin' } as const) : {};
  return { ok: false, brokeBy: 'throughput', ...doubt, why: `answered ${rate(f.achievedPerSec)} of ${rate(f.offeredPerSec)} offered (${pct(ratio)} < ${pct(slo.minAchievedRatio)})${held}; p99 ${ms(f.latencyMs.p99)}${stall.why}` };
}

/** Rates people can read: 1 decimal below 10/s, whole below 100/s, 2 significant digits above. */
export function roundRate(r: number): number {
  if (r < 10) return Math.round(r * 10) / 10;
  if (r < 100) return Math.round(r);
  const mag = 10 ** (Math.floor(Math.log10(r)) - 1);
  return Math.round(r / mag) * mag;
}

/** The verdict that counts for each rate tried: a retried step's retry replaces it. */
function verdicts(steps: readonly Pick<CapacityStep, 'offeredPerSec' | 'ok' | 'brokeBy' | 'phase'>[]) {
  const byRate = new Map<number, (typeof steps)[number]>();
  for (const s of steps) byRate.set(s.offeredPerSec, s);
  const all = [...byRate.values()];
  const good = all.filter((s) => s.ok).reduce<(typeof steps)[number] | undefined>((a, s) => (!a || s.offeredPerSec > a.offeredPerSec ? s : a), undefined);
  // A failure below a success (noise) does not bound the knee: the first bad rate is above the last good one.
  const bad = all
    .filter((s) => !s.ok && (!good || s.offeredPerSec > good.offeredPerSec))
    .reduce<(typeof steps)[number] | undefined>((a, s) => (!a || s.offeredPerSec < a.offeredPerSec ? s : a), undefined);
  return { good, bad };
}

/**
 * The next step of the search, or undefined when it is over. A step the generator failed, one
 * that fell short by a margin, or one in which the target stalled, is run once more (a busy
 * moment should not decide the knee); then: grow
 * geometrically until a step breaks or the maximum rate passed; if even the first rate broke
 * the target, go down; then bisect (geometrically) between the last good and the first bad rate.
 */
export function nextStep(steps: readonly Pick<CapacityStep, 'offeredPerSec' | 'ok' | 'brokeBy' | 'doubt' | 'phase'>[], s: SearchSettings): { rate: number; phase: StepPhase } | undefined {
  if (!steps.length) return { rate: roundRate(Math.min(s.startRate, s.maxRate)), phase: 'grow' };
  const last = steps.at(-1)!;
  if (!last.ok && (last.brokeBy === 'generator' || last.doubt) && last.phase !== 'retry') return { rate: last.offeredPerSec, phase: 'retry' };
  const { good, bad } = verdicts(steps);
  if (!bad) {
    const up = roundRate(Math.min(s.maxRate, good!.offeredPerSec * s.growth));
    return up > good!.offeredPerSec ? { rate: up, phase: 'grow' } : undefined;
  }
  if (!good) {
    // The generator could not send the first rate: lower rates say nothing about the target's knee.
    if (bad.brokeBy === 'generator') return undefined;
    const down = roundRate(bad.offeredPerSec / s.growth);
    if (down < MIN_RATE || down >= bad.offeredPerSec || steps.filter((x) => x.phase === 'down').length >= MAX_DOWN_STEPS) return undefined;
    return { rate: down, phase: 'down' };
  }
  if (steps.filter((x) => x.phase === 'refine').length >= s.refineSteps) return undefined;
  const mid = roundRate(Math.sqrt(good.offeredPerSec * bad.offeredPerSec));
  if (mid <= good.offeredPerSec || mid >= bad.offeredPerSec) return undefined;
  return { rate: mid, phase: 'refine' };
}

/** Where the search ended: the highest rate sustained within the SLO, and what broke above it. */
export interface Knee {
  /** Offered rate of the highest step within the SLO; 0 when none was. */
  sustainedPerSec: number;
  /** What broke the first step above it; null when nothing broke up to the maximum rate. */
  brokeBy: BrokeBy | null;
  /**
   * The target was not shown to break above `sustainedPerSec`: the search reached the maximum
   * rate, or the generator was the limit. The figure is then a lower bound ("at least").
   */
  atLeast: boolean;
  /** The step that set `sustainedPerSec`, and the first bad step above it (numbers of `steps`). */
  goodStep: number | null;
  badStep: number | null;
}

export function kneeOf(steps: readonly CapacityStep[]): Knee {
  const { good, bad } = verdicts(steps);
  const g = good as CapacityStep | undefined;
  const b = bad as CapacityStep | undefined;
  return {
    sustainedPerSec: g?.offeredPerSec ?? 0,
    brokeBy: b?.brokeBy ?? null,
    atLeast: !b || b.brokeBy === 'generator',
    goodStep: g?.step ?? null,
    badStep: b?.step ?? null,
  };
}

/** The knee in one line, e.g. "sustains 37 votes/s (p99 ≤ 1 s, ...); at 45/s it broke by throughput: ...". */
export function describeKnee(k: Knee, steps: readonly CapacityStep[], slo: Slo, maxRate: number): string {
  const bad = steps.find((s) => s.step === k.badStep);
  const good = steps.find((s) => s.step === k.goodStep);
  const within = `(${describeSlo(slo)})`;
  const at = good ? ` at p99 ${ms(good.latencyMs.p99)}` : '';
  if (!bad) return `sustains at least ${rate(k.sustainedPerSec)}${at} ${within}: nothing broke up to the maximum rate ${rate(maxRate)}`;
  if (k.brokeBy === 'generator') {
    const advice = 'run it with --workers, on a bigger load machine, or from several (loadtest k6-operator)';
    if (!good) return `not measured: the load generator, not the target, was the limit at the first rate, ${rate(bad.offeredPerSec)} (${bad.why}); lower --start-rate or ${advice}`;
    return (
      `sustains at least ${rate(k.sustainedPerSec)}${at} ${within}; at ${rate(bad.offeredPerSec)} the load generator, not the target, was the limit (${bad.why}): ${advice}`
    );
  }
  if (!good) return `sustains less than ${rate(bad.offeredPerSec)}: even that broke by ${k.brokeBy} (${bad.why})`;
  return `sustains ${rate(k.sustainedPerSec)}${at} ${within}; at ${rate(bad.offeredPerSec)} it broke by ${k.brokeBy}: ${bad.why}`;
}

/**
 * The search's growth as fixed stages for k6's `ramping-arrival-rate` (loadtest k6-operator
 * --rate R --stages ...): a short ramp to each rate (a quarter of the step, at most 1 s), held
 * for the rest of the step, up to the maximum rate. k6 runs its stages as planned — it cannot
 * pick the next rate from a step's verdict — so there is no refinement and no per-step verdict:
 * the knee is read from the per-second metrics (the load-test dashboard).
 */
export function k6Staircase(s: SearchSettings, stepMs: number): Stage[] {
  const rates: number[] = [];
  for (let r = roundRate(Math.min(s.startRate, s.maxRate)); rates.at(-1) !== r; r = roundRate(Math.min(s.maxRate, r * s.growth))) rates.push(r);
  const ramp = Math.min(1000, Math.round(stepMs / 4));
  return rates.flatMap((target) => [
    { durationMs: ramp, target },
    { durationMs: stepMs - ramp, target },
  ]);
}
