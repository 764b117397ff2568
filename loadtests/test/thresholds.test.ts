import { describe, expect, it } from 'vitest';
import { UserError } from '../../lib/errors.ts';
import { checkRunThresholds, evaluateCompare, evaluateRun, parseThreshold, type ThresholdFigures } from '../thresholds.ts';

const figures = (o: Partial<ThresholdFigures> = {}): ThresholdFigures => ({
  attempted: 1000,
  accepted: 995,
  failed: 5,
  acceptedPerSec: 99.5,
  requestsPerSec: 110,
  latencyMs: { p50: 12, p90: 80, p99: 420, p999: 900, max: 1200 },
  lost: 0,
  extra: 0,
  drainSeconds: 3.5,
  ...o,
});

describe('threshold parsing', () => {
  it('reads k6-style expressions with units', () => {
    expect(parseThreshold('p99<500ms')).toEqual({ source: 'p99<500ms', metric: 'p99', op: '<', value: 500 });
    expect(parseThreshold('p(99.9) <= 1.5s')).toMatchObject({ metric: 'p999', op: '<=', value: 1500 });
    expect(parseThreshold('lost==0')).toMatchObject({ metric: 'lost', op: '==', value: 0 });
    expect(parseThreshold('failed_rate<1%')).toMatchObject({ metric: 'failed_rate', value: 0.01 });
    expect(parseThreshold('queue.accepted_per_sec>=100')).toMatchObject({ mode: 'queue', metric: 'accepted_per_sec', op: '>=' });
    expect(parseThreshold('ratio>1')).toMatchObject({ metric: 'ratio', op: '>', value: 1 });
  });

  it.each([
    ['p99', /expected metric, operator/],
    ['p98<5', /unknown metric "p98"/],
    ['p99<fast', /"fast" is not a number/],
    ['lost==0ms', /lost takes no time unit/],
    ['p99<5%', /only failed_rate takes %/],
    ['queue.ratio>1', /ratio belongs to the comparison/],
  ])('rejects %s with a usage error', (raw, why) => {
    expect(() => parseThreshold(raw)).toThrow(why);
    try {
      parseThreshold(raw);
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).exitCode).toBe(2);
    }
  });
});

describe('threshold evaluation', () => {
  it('passes and fails a run on its figures', () => {
    const out = evaluateRun(['p99<500ms', 'p99<400ms', 'failed_rate<0.01', 'lost==0', 'drain_seconds<3'].map(parseThreshold), figures());
    expect(out.map((o) => o.ok)).toEqual([true, false, true, true, false]);
    expect(out[2]!.actual).toBeCloseTo(0.005);
  });

  it('never passes a figure that is unknown (a reconciliation that did not settle): unknown, not ok', () => {
    const out = evaluateRun(['lost==0', 'extra<5', 'drain_seconds<10', 'p99<500ms'].map(parseThreshold), figures({ lost: null, extra: null, drainSeconds: null }));
    expect(out.slice(0, 3)).toEqual([
      { threshold: 'lost==0', actual: null, ok: false, unknown: true },
      { threshold: 'extra<5', actual: null, ok: false, unknown: true },
      { threshold: 'drain_seconds<10', actual: null, ok: false, unknown: true },
    ]);
    expect(out[3]).toEqual({ threshold: 'p99<500ms', actual: 420, ok: true });
  });

  it('treats a run without attempts as failure rate 0', () => {
    expect(evaluateRun([parseThreshold('failed_rate<0.01')], figures({ attempted: 0, failed: 0 }))[0]!.ok).toBe(true);
  });

  it('rejects compare-only thresholds on a single run', () => {
    expect(() => evaluateRun([parseThreshold('ratio>1')], figures())).toThrow(/compare only/);
    expect(() => evaluateRun([parseThreshold('capacity_ratio>1')], figures())).toThrow(/compare only/);
    expect(() => evaluateRun([parseThreshold('queue.p99<5ms')], figures())).toThrow(/compare only/);
    expect(() => evaluateRun([parseThreshold('sustained_per_sec>=10')], figures())).toThrow(/applies to a capacity search/);
    // The same rule, before any load: nothing to evaluate yet.
    expect(() => checkRunThresholds([parseThreshold('p99<5ms'), parseThreshold('capacity_ratio>1')])).toThrow(/"capacity_ratio>1" applies to loadtest compare only/);
    expect(() => checkRunThresholds([parseThreshold('p99<5ms'), parseThreshold('lost==0')])).not.toThrow();
  });

  it('checks unscoped thresholds on both modes, scoped ones on one, ratio once', () => {
    const modes = { direct: figures({ lost: 0, acceptedPerSec: 40 }), queue: figures({ lost: 3, acceptedPerSec: 120 }) };
    const out = evaluateCompare(['lost==0', 'queue.accepted_per_sec>100', 'ratio>2'].map(parseThreshold), modes, 3);
    expect(out).toEqual([
      { threshold: 'lost==0', mode: 'direct', actual: 0, ok: true },
      { threshold: 'lost==0', mode: 'queue', actual: 3, ok: false },
      { threshold: 'queue.accepted_per_sec>100', mode: 'queue', actual: 120, ok: true },
      { threshold: 'ratio>2', actual: 3, ok: true },
    ]);
  });
});
