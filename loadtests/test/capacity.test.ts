import { describe, expect, it } from 'vitest';
import { GENERATOR_BUSY_LIMIT, judgeStep, k6Staircase, kneeOf, nextStep, roundRate, SLO_DEFAULTS, type CapacityStep, type SearchSettings, type StepFigures } from '../capacity.ts';
import { capacityRatio, lostOverall, proofVerdict } from '../proof.ts';
import { summarizeMode } from '../compare.ts';
import { evaluateCapacity, evaluateCompare, parseThreshold } from '../thresholds.ts';
import { fakeResult } from './fixtures/results.ts';

// The capacity search's pure parts: each SLO criterion passes and fails, the
// generator is named only when its own figures explain a failure, the search
// walks up, retries, refines and stops, and the thresholds respect bounds.

const step = (o: Partial<StepFigures> = {}): StepFigures => ({
  offeredPerSec: 100,
  durationSeconds: 2,
  requests: 200,
  windowSeconds: 2.01,
  achievedPerSec: 99.5,
  attempted: 200,
  accepted: 200,
  failed: 0,
  errors: {},
  acceptedPerSec: 99.5,
  latencyMs: { p50: 5, p90: 8, p99: 20, p999: 30, max: 40 },
  dropped: 0,
  generator: { busy: 0.1, lagP99Ms: 2 },
  targetSilenceMs: 30,
  backlogAtEnd: 0,
  ...o,
});

describe('judging a step against the SLO', () => {
  it('passes within all three criteria, and breaks on each one alone (failures, latency, throughput)', () => {
    expect(judgeStep(step(), SLO_DEFAULTS)).toEqual({ ok: true, why: 'p99 20 ms, failed 0 %, achieved 99.5/s of 100/s (99.5 %)' });
    // 1 % failed is within the SLO, 1.5 % is not.
    expect(judgeStep(step({ failed: 2, accepted: 198, errors: { vote_failed: 2 } }), SLO_DEFAULTS).ok).toBe(true);
    const failures = judgeStep(step({ failed: 3, accepted: 197, errors: { vote_failed: 2, http_500: 1 } }), SLO_DEFAULTS);
    expect(failures).toMatchObject({ ok: false, brokeBy: 'failures' });
    expect(failures.why).toMatch(/^1.5 % of votes failed \(vote_failed 2, http_500 1\) > 1 %/);
    const latency = judgeStep(step({ latencyMs: { p50: 300, p90: 900, p99: 1500, p999: 1600, max: 1700 } }), SLO_DEFAULTS);
    expect(latency).toMatchObject({ ok: false, brokeBy: 'latency' });
    expect(latency.why).toMatch(/^p99 1.5 s > 1 s/);
    // Answers stretched 2 s of arrivals over 2.3 s: 87 % of the offered rate.
    const slow = judgeStep(step({ windowSeconds: 2.3, achievedPerSec: 87, acceptedPerSec: 87, dropped: 4 }), SLO_DEFAULTS);
    expect(slow).toMatchObject({ ok: false, brokeBy: 'throughput' });
    expect(slow.why).toMatch(/^answered 87\/s of 100\/s offered \(87 % < 95 %\); 4 arrivals found no free connection/);
    expect(slow.doubt).toBeUndefined();
    // Within 5 points of the SLO, with latency and failures fine: marginal, worth one more run.
    expect(judgeStep(step({ windowSeconds: 2.17, achievedPerSec: 92.2, acceptedPerSec: 92.2 }), SLO_DEFAULTS)).toMatchObject({ ok: false, brokeBy: 'throughput', doubt: 'margin' });
    expect(judgeStep(step({ requests: 0, attempted: 0, accepted: 0, achievedPerSec: 0 }), SLO_DEFAULTS)).toMatchObject({ ok: false, brokeBy: 'throughput' });
  });

  it('doubts a failure in which the target went silent (a stall, not a pace), and not a target that is steadily slow', () => {
    const stalled = judgeStep(step({ windowSeconds: 2.6, achievedPerSec: 77, targetSilenceMs: 600 }), SLO_DEFAULTS);
    expect(stalled).toMatchObject({ ok: false, brokeBy: 'throughput', doubt: 'stall' });
    expect(stalled.why).toMatch(/; the target answered nothing for 600 ms$/);
    expect(judgeStep(step({ latencyMs: { p50: 20, p90: 900, p99: 1300, p999: 1300, max: 1300 }, targetSilenceMs: 900 }), SLO_DEFAULTS)).toMatchObject({ brokeBy: 'latency', doubt: 'stall' });
    // Answers 300 ms apart from a target whose median is 250 ms: its pace, not a stall.
    expect(judgeStep(step({ windowSeconds: 2.6, achievedPerSec: 77, targetSilenceMs: 300, latencyMs: { p50: 250, p90: 400, p99: 600, p999: 600, max: 600 } }), SLO_DEFAULTS).doubt).toBeUndefined();
    // Silent for less than a fifth of the SLO's p99: no doubt.
    expect(judgeStep(step({ windowSeconds: 2.6, achievedPerSec: 77, targetSilenceMs: 150 }), SLO_DEFAULTS).doubt).toBeUndefined();
  });

  it('names the generator when its thread had no spare time, whatever else broke', () => {
    const sentFew = { requests: 120, windowSeconds: 2, achievedPerSec: 60, dropped: 80 };
    const saturated = judgeStep(step({ ...sentFew, generator: { busy: GENERATOR_BUSY_LIMIT, lagP99Ms: 0 } }), SLO_DEFAULTS);
    expect(saturated).toMatchObject({ ok: false, brokeBy: 'generator' });
    expect(saturated.why).toMatch(/^the load generator was busy 90 % of the step: it could not send 100\/s/);
    // Busy but not saturated: the target's shortfall stays the target's.
    expect(judgeStep(step({ ...sentFew, generator: { busy: 0.85, lagP99Ms: 0 } }), SLO_DEFAULTS).brokeBy).toBe('throughput');
    // A saturated generator in a step that passed does not fail it.
    expect(judgeStep(step({ generator: { busy: 1, lagP99Ms: 0 } }), SLO_DEFAULTS).ok).toBe(true);
  });

  it('names a starved generator when its own lateness explains the latency or the shortfall, and the target when it does not', () => {
    // The generator's timers fired 700 ms late (p99): most of the 1.2 s p99 is its own.
    const starved = judgeStep(step({ latencyMs: { p50: 5, p90: 300, p99: 1200, p999: 1300, max: 1400 }, generator: { busy: 0.4, lagP99Ms: 700 } }), SLO_DEFAULTS);
    expect(starved).toMatchObject({ ok: false, brokeBy: 'generator' });
    expect(starved.why).toMatch(/the generator's own timers fired up to 700 ms late \(p99\): the load machine, not the target, was slow/);
    // The same lateness does not excuse a target whose p99 is far beyond it.
    expect(judgeStep(step({ latencyMs: { p50: 900, p90: 2000, p99: 3000, p999: 3100, max: 3200 }, generator: { busy: 0.4, lagP99Ms: 700 } }), SLO_DEFAULTS).brokeBy).toBe('latency');
    // Throughput: a late generator stretches the window by its own lateness.
    expect(judgeStep(step({ windowSeconds: 2.2, achievedPerSec: 90.9, generator: { busy: 0.3, lagP99Ms: 250 } }), SLO_DEFAULTS).brokeBy).toBe('generator');
    expect(judgeStep(step({ windowSeconds: 2.2, achievedPerSec: 90.9, generator: { busy: 0.3, lagP99Ms: 20 } }), SLO_DEFAULTS).brokeBy).toBe('throughput');
    // Lateness below a tenth of the SLO's p99 is a shared machine's jitter: it excuses nothing, even where it would add up.
    expect(judgeStep(step({ windowSeconds: 2.08, achievedPerSec: 96.2 * 0.95, requests: 200, generator: { busy: 0.3, lagP99Ms: 90 } }), SLO_DEFAULTS).brokeBy).toBe('throughput');
    expect(judgeStep(step({ latencyMs: { p50: 5, p90: 300, p99: 1050, p999: 1100, max: 1100 }, generator: { busy: 0.3, lagP99Ms: 90 } }), SLO_DEFAULTS).brokeBy).toBe('latency');
    // Failures are the target's answers, never the generator's lateness.
    expect(judgeStep(step({ failed: 10, errors: { vote_failed: 10 }, generator: { busy: 0.3, lagP99Ms: 900 } }), SLO_DEFAULTS).brokeBy).toBe('failures');
  });
});

type Judged = Pick<CapacityStep, 'offeredPerSec' | 'ok' | 'brokeBy' | 'doubt' | 'phase'>;
const settings: SearchSettings = { startRate: 10, maxRate: 1000, growth: 2, refineSteps: 3 };

/** Run the search against a target that sustains `capacity`/s exactly; `generatorAbove` fails steps above it as the generator's. */
function simulate(capacity: number, s: SearchSettings = settings, generatorAbove = Infinity): Judged[] {
  const steps: Judged[] = [];
  for (let next = nextStep(steps, s); next; next = nextStep(steps, s)) {
    const broken = next.rate > generatorAbove ? ('generator' as const) : next.rate > capacity ? ('throughput' as const) : undefined;
    steps.push({ offeredPerSec: next.rate, phase: next.phase, ok: !broken, ...(broken ? { brokeBy: broken } : {}) });
    if (steps.length > 40) throw new Error('the search does not end');
  }
  return steps;
}

const knee = (steps: Judged[]) => kneeOf(steps.map((s, i) => ({ ...step({ offeredPerSec: s.offeredPerSec }), ...s, step: i + 1, startSeconds: i, why: '' })));

describe('the search', () => {
  it('grows geometrically, then bisects between the last good and the first bad rate', () => {
    const steps = simulate(50);
    expect(steps.map((s) => `${s.phase} ${s.offeredPerSec}`)).toEqual(['grow 10', 'grow 20', 'grow 40', 'grow 80', 'refine 57', 'refine 48', 'refine 52']);
    expect(knee(steps)).toMatchObject({ sustainedPerSec: 48, brokeBy: 'throughput', atLeast: false });
    for (const capacity of [7, 33, 120, 777]) expect(Math.abs(knee(simulate(capacity)).sustainedPerSec / capacity - 1)).toBeLessThan(0.1);
  });

  it('stops at the maximum rate with a lower bound, and goes down when even the first rate broke', () => {
    const capped = simulate(10_000, { ...settings, maxRate: 240 });
    expect(capped.map((s) => s.offeredPerSec)).toEqual([10, 20, 40, 80, 160, 240]);
    expect(knee(capped)).toMatchObject({ sustainedPerSec: 240, brokeBy: null, atLeast: true });
    const low = simulate(3, { ...settings, startRate: 20 });
    expect(low.slice(0, 4).map((s) => `${s.phase} ${s.offeredPerSec}`)).toEqual(['grow 20', 'down 10', 'down 5', 'down 2.5']);
    expect(knee(low).sustainedPerSec).toBeGreaterThanOrEqual(2.5);
    expect(knee(low).sustainedPerSec).toBeLessThanOrEqual(3);
    expect(knee(simulate(0.1))).toMatchObject({ sustainedPerSec: 0, brokeBy: 'throughput', atLeast: false });
  });

  it('runs a step the generator failed once more, and ends on the generator when it fails again: a lower bound, never a target knee', () => {
    const steps = simulate(10_000, settings, 100);
    expect(steps.map((s) => `${s.phase} ${s.offeredPerSec}`)).toEqual(['grow 10', 'grow 20', 'grow 40', 'grow 80', 'grow 160', 'retry 160', 'refine 110', 'retry 110', 'refine 94', 'refine 100']);
    expect(knee(steps)).toMatchObject({ sustainedPerSec: 100, brokeBy: 'generator', atLeast: true });
    // A retry that passes counts: the busy moment was the machine's, and the search goes on.
    const flaky: Judged[] = [{ offeredPerSec: 10, phase: 'grow', ok: false, brokeBy: 'generator' }];
    expect(nextStep(flaky, settings)).toEqual({ rate: 10, phase: 'retry' });
    flaky.push({ offeredPerSec: 10, phase: 'retry', ok: true });
    expect(nextStep(flaky, settings)).toEqual({ rate: 20, phase: 'grow' });
    // A marginal shortfall runs again once; failing again, it counts.
    const marginal: Judged[] = [
      { offeredPerSec: 10, phase: 'grow', ok: true },
      { offeredPerSec: 20, phase: 'grow', ok: false, brokeBy: 'throughput', doubt: 'margin' },
    ];
    expect(nextStep(marginal, settings)).toEqual({ rate: 20, phase: 'retry' });
    marginal.push({ offeredPerSec: 20, phase: 'retry', ok: false, brokeBy: 'throughput', doubt: 'margin' });
    expect(nextStep(marginal, settings)).toEqual({ rate: 14, phase: 'refine' });
    // The generator cannot send even the first rate: nothing below it says anything about the target.
    expect(simulate(10_000, { ...settings, startRate: 500 }, 100).map((s) => s.phase)).toEqual(['grow', 'retry']);
  });

  it('as k6 stages: the growth to the maximum rate, each step a short ramp and a hold', () => {
    expect(k6Staircase({ startRate: 10, maxRate: 50, growth: 2, refineSteps: 3 }, 5000)).toEqual([
      { durationMs: 1000, target: 10 },
      { durationMs: 4000, target: 10 },
      { durationMs: 1000, target: 20 },
      { durationMs: 4000, target: 20 },
      { durationMs: 1000, target: 40 },
      { durationMs: 4000, target: 40 },
      { durationMs: 1000, target: 50 },
      { durationMs: 4000, target: 50 },
    ]);
    expect(k6Staircase({ startRate: 10, maxRate: 10, growth: 2, refineSteps: 0 }, 2000)).toEqual([
      { durationMs: 500, target: 10 },
      { durationMs: 1500, target: 10 },
    ]);
  });

  it('rounds rates so people can read them', () => {
    expect([2.345, 28.28, 226.3, 1234].map(roundRate)).toEqual([2.3, 28, 230, 1200]);
  });
});

describe('capacity thresholds', () => {
  const knees = (sustainedPerSec: number, atLeast: boolean) => ({ sustainedPerSec, atLeast, lost: 0, extra: 0, drainSeconds: 1 });

  it('sustained_per_sec passes or fails on an exact knee; a lower bound only passes, and is unknown otherwise', () => {
    const t = parseThreshold('sustained_per_sec>=30');
    expect(evaluateCapacity([t], knees(35, false))).toEqual([{ threshold: 'sustained_per_sec>=30', actual: 35, ok: true }]);
    expect(evaluateCapacity([t], knees(25, false))).toEqual([{ threshold: 'sustained_per_sec>=30', actual: 25, ok: false }]);
    expect(evaluateCapacity([t], knees(35, true))[0]).toMatchObject({ ok: true });
    expect(evaluateCapacity([t], knees(25, true))[0]).toMatchObject({ ok: false, unknown: true });
    // `<` on a lower bound: a bound already above the limit fails for sure.
    expect(evaluateCapacity([parseThreshold('sustained_per_sec<20')], knees(25, true))[0]).toMatchObject({ ok: false });
    expect(evaluateCapacity([parseThreshold('sustained_per_sec<20')], knees(15, true))[0]).toMatchObject({ unknown: true });
    expect(() => evaluateCapacity([parseThreshold('p99<1s')], knees(1, false))).toThrow(/does not apply to a capacity search/);
  });

  it('capacity_ratio is queue ÷ direct sustained, with the direction of the bounds', () => {
    const modes = { direct: fakeResult(), queue: fakeResult() };
    const t = [parseThreshold('capacity_ratio>1')];
    const cap = (d: number, dAtLeast: boolean, q: number, qAtLeast: boolean) => ({
      ratio: capacityRatio({ capacity: { slo: SLO_DEFAULTS, direct: { sustainedPerSec: d, atLeast: dAtLeast } as never, queue: { sustainedPerSec: q, atLeast: qAtLeast } as never } }),
      direct: { sustainedPerSec: d, atLeast: dAtLeast },
      queue: { sustainedPerSec: q, atLeast: qAtLeast },
    });
    expect(evaluateCompare(t, modes, 1, cap(35, false, 240, true))).toEqual([{ threshold: 'capacity_ratio>1', actual: 6.86, ok: true }]);
    expect(evaluateCompare(t, modes, 1, cap(35, false, 30, false))[0]).toMatchObject({ actual: 0.86, ok: false });
    // The queue's lower bound below direct proves nothing; a direct lower bound cannot prove queue wins.
    expect(evaluateCompare(t, modes, 1, cap(35, false, 30, true))[0]).toMatchObject({ unknown: true });
    expect(evaluateCompare(t, modes, 1, cap(35, true, 240, false))[0]).toMatchObject({ unknown: true });
    expect(() => evaluateCompare(t, modes, 1)).toThrow(/needs the capacity searches/);
  });
});

describe('the proof verdict', () => {
  const modes = {
    direct: summarizeMode([fakeResult({ mode: 'direct', acceptedPerSec: 33, recordedPerSec: 35, failed: 20, errors: { vote_failed: 20 } })]),
    queue: summarizeMode([fakeResult({ mode: 'queue', acceptedPerSec: 80, recordedPerSec: 32, backlogGrowthPerSec: 45, drainSeconds: 3, predictedDrainSeconds: 2.8 })]),
  };
  const search = (sustainedPerSec: number, atLeast: boolean, brokeBy: CapacityStep['brokeBy'] | null) => ({
    sustainedPerSec,
    atLeast,
    brokeBy: brokeBy ?? null,
    verdict: '',
    steps: [
      { ...step({ offeredPerSec: sustainedPerSec }), step: 1, phase: 'grow' as const, startSeconds: 0, ok: true, why: '' },
      ...(brokeBy ? [{ ...step({ offeredPerSec: sustainedPerSec * 1.2, achievedPerSec: sustainedPerSec }), step: 2, phase: 'grow' as const, startSeconds: 1, ok: false, brokeBy, why: '' }] : []),
    ],
    reconciliation: { ...fakeResult(), outcome: 'counted' as const },
    acceptedTotal: 100,
    partial: false,
  });

  it('says what each mode sustains, what the queue does not change, the burst, and that nothing was lost', () => {
    const proof = { capacity: { slo: SLO_DEFAULTS, direct: search(35, false, 'throughput'), queue: search(240, true, null) } };
    const lost = { direct: lostOverall('direct', modes.direct, proof), queue: lostOverall('queue', modes.queue, proof) };
    const v = proofVerdict(modes, proof, 80, lost);
    expect(v).toMatch(/^Direct mode sustains 35 votes\/s at p99 20 ms and falls behind beyond \(at 42\/s it broke by throughput: p99 20 ms, answered 35\/s\); queue mode sustains at least 240 votes\/s at p99 20 ms \(the search's upper bound; nothing broke\): 6.86× direct \(p99 ≤ 1 s, failed ≤ 1 %, achieved ≥ 95 % of offered\)\. /);
    expect(v).toContain("Queue mode stores no faster than direct mode, at the data tier's pace: 32 vs 35 votes recorded/s at 80 votes/s offered");
    expect(v).toContain('its backlog grew 45 votes/s and drained in 3 s (predicted 2.8 s)');
    expect(v).toMatch(/Every accepted vote was counted in both modes \(lost 0\/0\)\.$/);
  });

  it("cites the step that counted at the knee: a retried rate's retry, not the run it replaced", () => {
    const good = { ...step({ offeredPerSec: 35 }), step: 1, phase: 'grow' as const, startSeconds: 0, ok: true, why: '' };
    // At 42/s the first run was the generator's (busy); its retry broke the target by throughput.
    const first = { ...step({ offeredPerSec: 42, achievedPerSec: 20, latencyMs: { p50: 5, p90: 8, p99: 900, p999: 900, max: 900 } }), step: 2, phase: 'grow' as const, startSeconds: 1, ok: false, brokeBy: 'generator' as const, why: '' };
    const retry = { ...step({ offeredPerSec: 42, achievedPerSec: 36 }), step: 3, phase: 'retry' as const, startSeconds: 2, ok: false, brokeBy: 'throughput' as const, why: '' };
    const direct = { ...search(35, false, null), brokeBy: 'throughput' as const, steps: [good, first, retry] };
    const proof = { capacity: { slo: SLO_DEFAULTS, direct, queue: search(240, true, null) } };
    const v = proofVerdict(modes, proof, 80, { direct: 0, queue: 0 });
    expect(v).toContain('Direct mode sustains 35 votes/s at p99 20 ms and falls behind beyond (at 42/s it broke by throughput: p99 20 ms, answered 36/s)');
    expect(v).not.toContain('broke by generator');
  });

  it('names LOST votes from any part a mode ran, and NOT SETTLED ones as not proven lost', () => {
    const lossy = { capacity: { slo: SLO_DEFAULTS, direct: search(35, false, 'latency'), queue: { ...search(240, true, null), reconciliation: { ...fakeResult(), outcome: 'lost' as const, lost: 12 } } } };
    expect(lostOverall('queue', modes.queue, lossy)).toBe(12);
    expect(proofVerdict(modes, lossy, 80, { direct: 0, queue: 12 })).toMatch(/LOST accepted votes: queue 12\.$/);
    // A queue that lost votes records fewer: the verdict states both rates without claiming the same pace.
    const leaky = { ...modes, queue: summarizeMode([fakeResult({ mode: 'queue', acceptedPerSec: 80, recordedPerSec: 17 })]) };
    expect(proofVerdict(leaky, lossy, 80, { direct: 0, queue: 12 })).toContain('Votes recorded/s at 80 votes/s offered: queue mode 17, direct mode 35');
    // Within ±50 % of direct's rate, but votes were lost: still no claim of the same pace (22 vs 37 in a run of the original flavour).
    const lossyClose = { ...modes, queue: summarizeMode([fakeResult({ mode: 'queue', acceptedPerSec: 80, recordedPerSec: 22 })]) };
    const v = proofVerdict(lossyClose, lossy, 80, { direct: 0, queue: 12 });
    expect(v).not.toContain("data tier's pace");
    expect(v).toContain('Votes recorded/s at 80 votes/s offered: queue mode 22, direct mode 35');
    const unsettled = { burst: { queue: { offered: 200, accepted: 200, failed: 0, errors: {}, latencyMs: modes.queue.latencyMs, outcome: 'not-settled' as const, lost: null, extra: null, drainSeconds: null, recordedPerSec: null, backlogAtLoadEnd: 150, predictedDrainSeconds: 4, undrained: 150, reason: 'drain timeout (30 s) reached before the count stopped moving' } } };
    expect(lostOverall('queue', modes.queue, unsettled)).toBeNull();
    expect(proofVerdict(modes, unsettled, 80, { direct: 0, queue: null })).toMatch(/NOT SETTLED, not proven lost: queue \(drain timeout \(30 s\) reached before the count stopped moving\)\.$/);
  });
});
