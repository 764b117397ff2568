import { describe, expect, it } from 'vitest';
import { orderOf, summarizeCompare, summarizeMode, verdictOf, type TrialRun } from '../compare.ts';
import { fakeResult, notSettled } from './fixtures/results.ts';

const run = (trial: number, mode: 'direct' | 'queue', acceptedPerSec: number, o: Parameters<typeof fakeResult>[0] = {}): TrialRun => ({
  trial,
  mode,
  result: fakeResult({ mode, acceptedPerSec, ...o }),
});

describe('compare', () => {
  it('alternates which mode goes first', () => {
    expect([1, 2, 3, 4].map(orderOf)).toEqual([
      ['direct', 'queue'],
      ['queue', 'direct'],
      ['direct', 'queue'],
      ['queue', 'direct'],
    ]);
  });

  it('takes medians per mode with their spread, but totals lost votes over trials', () => {
    const s = summarizeMode([
      fakeResult({ acceptedPerSec: 40, lost: 0, latencyMs: { p50: 1, p90: 2, p99: 300, p999: 4, max: 5 } }),
      fakeResult({ acceptedPerSec: 38, lost: 2, latencyMs: { p50: 1, p90: 2, p99: 100, p999: 4, max: 5 } }),
      fakeResult({ acceptedPerSec: 45, lost: 0, latencyMs: { p50: 1, p90: 2, p99: 200, p999: 4, max: 5 } }),
    ]);
    expect(s.acceptedPerSec).toBe(40);
    expect(s.latencyMs.p99).toBe(200);
    expect(s.spread.acceptedPerSec).toEqual([38, 45]);
    // A median would hide the one trial that lost votes.
    expect(s.lost).toBe(2);
    expect(s.lostPerTrial).toEqual([0, 2, 0]);
    expect(s.trials).toBe(3);
  });

  it('computes the ratio of medians and a verdict saying it held in every trial', () => {
    const runs = [run(1, 'direct', 40), run(1, 'queue', 110), run(2, 'queue', 100), run(2, 'direct', 38), run(3, 'direct', 41), run(3, 'queue', 105)];
    const c = summarizeCompare(runs, { storageProfile: 'pi-sd' }, false);
    expect(c.ratio).toBe(2.63);
    expect(c.verdict).toMatch(/^queue mode accepted 2.63× the votes per second of direct mode \(105\/s vs 40\/s, median of 3 trials, in every trial\); every accepted vote was counted in both modes/);
    expect(c.trials.map((t) => t.order[0])).toEqual(['direct', 'queue', 'direct']);
    expect(c.trials[1]!.queue!.acceptedPerSec).toBe(100);
  });

  it('says so when votes were lost, when there is no difference, and when a run was cut short', () => {
    const lossy = summarizeCompare([run(1, 'direct', 40), run(1, 'queue', 120, { outcome: 'lost', lost: 7 })], {}, false);
    expect(lossy.verdict).toMatch(/LOST accepted votes: queue 7$/);
    expect(lossy.modes.queue.outcome).toBe('lost');
    const stopped = summarizeCompare([run(1, 'direct', 40), run(1, 'queue', 120, { ...notSettled('stopped (Ctrl-C) before the drain', 90), unsettledBy: 'interrupted', partial: true })], {}, true);
    expect(stopped.verdict).toMatch(/^PARTIAL \(stopped early\): queue mode accepted 3× .*; NOT SETTLED, not proven lost: queue 90 not yet counted \(trial 1: stopped \(Ctrl-C\) before the drain\)$/);
    const same = summarizeCompare([run(1, 'direct', 40), run(1, 'queue', 41)], {}, true);
    expect(same.verdict).toMatch(/^PARTIAL \(stopped early\): no clear difference/);
    expect(same.partial).toBe(true);
    const none = summarizeMode([]);
    expect(verdictOf({ ...none, trials: 1 }, { ...summarizeMode([fakeResult({ acceptedPerSec: 50 })]) }, null)).toMatch(/^direct mode accepted no votes/);
  });
});

describe('compare: reconciliation over trials', () => {
  it('a drain that timed out is "not settled", never "lost": lost is unknown unless another trial lost votes', () => {
    const timedOut = summarizeCompare([run(1, 'direct', 40), run(1, 'queue', 120, notSettled()), run(2, 'queue', 118), run(2, 'direct', 39)], {}, false);
    expect(timedOut.verdict).not.toMatch(/LOST/);
    expect(timedOut.verdict).toMatch(/NOT SETTLED, not proven lost: queue 2701 not yet counted \(trial 1: drain timeout \(2 s\) reached before the count stopped moving\)$/);
    expect(timedOut.modes.queue).toMatchObject({ outcome: 'not-settled', lost: null, extra: null, drainSeconds: null, undrained: 2701, lostPerTrial: [null, 0] });
    expect(timedOut.trials[0]!.queue).toMatchObject({ outcome: 'not-settled', lost: null });

    // A loss in one trial shows even when another did not settle.
    const both = summarizeCompare([run(1, 'direct', 40), run(1, 'queue', 120, notSettled()), run(2, 'queue', 118, { outcome: 'lost', lost: 5 }), run(2, 'direct', 39)], {}, false);
    expect(both.modes.queue).toMatchObject({ outcome: 'lost', lost: 5 });
    expect(both.verdict).toMatch(/LOST accepted votes: queue 5; NOT SETTLED, not proven lost: queue 2701/);
  });

  it('sums per-hero losses and extras over trials', () => {
    const s = summarizeMode([fakeResult({ lostByHero: { Batman: 2 }, extraByHero: { Superman: 2 } }), fakeResult({ lostByHero: { Batman: 1 } })]);
    expect(s).toMatchObject({ lostByHero: { Batman: 3 }, extraByHero: { Superman: 2 } });
  });
});
