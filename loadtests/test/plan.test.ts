import { describe, expect, it } from 'vitest';
import { heroPicker, heroWeights, rng, routePicker } from '../mix.ts';
import { buildPlan, parseHeroWeights, parseMix, parseStages, type RunSettings } from '../plan.ts';
import { requestSequence } from '../shard.ts';
import { arrivalMs, levelAt, profileOf } from '../schedule.ts';

const settings = (o: Partial<RunSettings> = {}): RunSettings => ({
  target: 'http://127.0.0.1:1',
  key: 'K',
  voters: 10,
  rate: 0,
  thinkMs: 0,
  connections: 0,
  durationMs: 10_000,
  warmupMs: 0,
  stages: [],
  mix: { vote: 90, results: 8, options: 2 },
  distribution: 'uniform',
  heroWeights: {},
  timeoutMs: 10_000,
  workers: 1,
  drainTimeoutMs: 30_000,
  seed: 1,
  ...o,
});

describe('profile and schedule', () => {
  it('holds a constant level, or ramps stage by stage from 0', () => {
    const flat = profileOf(20, 5000);
    expect(levelAt(flat, 0)).toBe(20);
    expect(levelAt(flat, 4999)).toBe(20);
    expect(levelAt(flat, 5000)).toBe(0);
    const staged = profileOf(0, 0, [
      { durationMs: 10_000, target: 100 },
      { durationMs: 10_000, target: 100 },
      { durationMs: 5_000, target: 0 },
    ]);
    expect(staged.endMs).toBe(25_000);
    expect(staged.peak).toBe(100);
    expect(levelAt(staged, 5_000)).toBe(50);
    expect(levelAt(staged, 15_000)).toBe(100);
    expect(levelAt(staged, 22_500)).toBe(50);
  });

  it('spaces open-model arrivals evenly at a constant rate', () => {
    const p = profileOf(200, 2000);
    expect(arrivalMs(p, 0)).toBe(0);
    expect(arrivalMs(p, 1)).toBeCloseTo(5);
    expect(arrivalMs(p, 399)).toBeCloseTo(1995);
    expect(arrivalMs(p, 400)).toBe(Infinity);
  });

  it('places arrivals on a ramp where the integral of the rate reaches them', () => {
    // 0 → 100/s over 10 s: 500 arrivals, n-th at sqrt(n / 5) s.
    const p = profileOf(0, 0, [{ durationMs: 10_000, target: 100 }, { durationMs: 1000, target: 100 }]);
    expect(arrivalMs(p, 5)).toBeCloseTo(1000);
    expect(arrivalMs(p, 125)).toBeCloseTo(5000);
    expect(arrivalMs(p, 550)).toBeCloseTo(10_500);
    let count = 0;
    while (arrivalMs(p, count) < 11_000) count++;
    expect(count).toBe(600);
  });
});

describe('request mix', () => {
  const tally = (pick: () => string, n: number) => {
    const c: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const k = pick();
      c[k] = (c[k] ?? 0) + 1;
    }
    return c;
  };

  it('draws routes in the given proportions, reproducibly from a seed', () => {
    const c = tally(routePicker({ vote: 90, results: 8, options: 2 }, rng(7)), 20_000);
    expect(c.vote! / 20_000).toBeCloseTo(0.9, 1);
    expect(c.results! / 20_000).toBeCloseTo(0.08, 1);
    expect(c.options).toBeGreaterThan(200);
    expect(tally(routePicker({ vote: 1, results: 1, options: 0 }, rng(3)), 100)).toEqual(tally(routePicker({ vote: 1, results: 1, options: 0 }, rng(3)), 100));
  });

  it('draws heroes uniformly, by weight, or Zipf in the options order', () => {
    const heroes = ['A', 'B', 'C', 'D'];
    expect(heroWeights(heroes, 'zipf')).toEqual([1, 1 / 2, 1 / 3, 1 / 4]);
    expect(heroWeights(heroes, 'weighted', { B: 3 })).toEqual([1, 3, 1, 1]);
    const zipf = tally(heroPicker(heroes, 'zipf', rng(1)), 20_000);
    expect(zipf.A).toBeGreaterThan(zipf.B!);
    expect(zipf.B).toBeGreaterThan(zipf.D!);
    const uniform = tally(heroPicker(heroes, 'uniform', rng(1)), 20_000);
    for (const h of heroes) expect(uniform[h]! / 20_000).toBeCloseTo(0.25, 1);
  });
});

describe('request sequence', () => {
  it('prebuilds the mix: votes for the target\'s heroes (URL-encoded) and the UI\'s reads, reproducibly', () => {
    const spec = { seed: 9, mix: { vote: 90, results: 8, options: 2 }, heroes: ['Captain Cloud', 'Spider-Man'], distribution: 'uniform' as const };
    const seq = requestSequence(spec, 1000);
    const votes = seq.filter((r) => r.route === 'vote');
    expect(votes.length / 1000).toBeCloseTo(0.9, 1);
    expect(new Set(votes.map((r) => r.path))).toEqual(new Set(['/vote/Captain%20Cloud', '/vote/Spider-Man']));
    expect(votes.every((r) => r.method === 'POST')).toBe(true);
    expect(seq.filter((r) => r.route === 'results').every((r) => r.method === 'GET' && r.path === '/v2/results')).toBe(true);
    expect(seq.some((r) => r.path === '/options')).toBe(true);
    expect(requestSequence(spec, 50)).toEqual(requestSequence(spec, 50));
  });
});

describe('settings → plan', () => {
  it('builds a closed plan, or an open one when a rate is given', () => {
    expect(buildPlan(settings({ thinkMs: 200 })).model).toEqual({ kind: 'closed', voters: 10, thinkMs: 200 });
    expect(buildPlan(settings({ rate: 150, connections: 20 })).model).toEqual({ kind: 'open', rate: 150, connections: 20 });
  });

  it('takes the duration from the stages when given', () => {
    const plan = buildPlan(settings({ stages: parseStages('10s:50,30s:50,10s:0', '--stages') }));
    expect(plan.durationMs).toBe(50_000);
    expect(plan.stages).toHaveLength(3);
  });

  it.each([
    [{ warmupMs: 10_000 }, /--warmup/],
    [{ durationMs: 0 }, /--duration/],
    [{ voters: 0 }, /--voters/],
    [{ key: '' }, /no key/],
    [{ target: '' }, /no target/],
  ])('rejects %o with a usage error', (o, why) => {
    expect(() => buildPlan(settings(o))).toThrow(why);
  });

  it('parses mix, hero weights and stages, rejecting nonsense', () => {
    expect(parseMix('vote=1,results=1', '--mix')).toEqual({ vote: 1, results: 1, options: 0 });
    expect(() => parseMix('results=1', '--mix')).toThrow(/must include votes/);
    expect(() => parseMix('vote=x', '--mix')).toThrow(/invalid --mix/);
    expect(parseHeroWeights('Captain Cloud=3, Batman=1', '--weights')).toEqual({ 'Captain Cloud': 3, Batman: 1 });
    expect(() => parseStages('10s', '--stages')).toThrow(/duration:target/);
    expect(() => parseStages('10s:0', '--stages')).toThrow(/some target above 0/);
    expect(() => parseStages('soon:10', '--stages')).toThrow(/invalid --stages/);
  });
});
