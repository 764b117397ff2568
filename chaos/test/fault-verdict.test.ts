import { describe, expect, it } from 'vitest';
import { judgeRecovered, judgeShare, wilson } from '../fault-verdict.ts';

// The abort/delay verdict's statistics: the observed share of faulted requests must be
// consistent with the requested one at 99.9 % (Wilson interval), a share that is off
// (a wrong percentage, a fault never applied) fails, and a sample too small to tell is
// "not observed".

const opts = { precision: 0.1 };

describe('the fault verdict', () => {
  it('the Wilson interval narrows with the sample, as 3.29·√(p(1−p)/n)', () => {
    const small = wilson({ k: 10, n: 20 });
    const large = wilson({ k: 200, n: 400 });
    expect(small.hi - small.lo).toBeGreaterThan(0.55);
    expect((large.hi - large.lo) / 2).toBeCloseTo(3.29 * Math.sqrt(0.25 / 400), 2);
    expect(wilson({ k: 0, n: 50 }).lo).toBe(0);
    expect(wilson({ k: 50, n: 50 }).hi).toBe(1);
  });

  it('passes a share consistent with the request, and fails a wrong one or a fault that was not applied (negative controls)', () => {
    expect(judgeShare({ n: 400, k: 207 }, 50, 'answered 500', opts)).toEqual({
      outcome: 'pass',
      reason: '207 of 400 requests answered 500 (51.7%), 99.9% interval [43.6%, 59.8%] contains the expected 50.0%',
    });
    expect(judgeShare({ n: 400, k: 120 }, 50, 'answered 500', opts).outcome).toBe('fail'); // the mesh applied 30 %, not 50 %
    expect(judgeShare({ n: 400, k: 0 }, 50, 'answered 500', opts)).toMatchObject({ outcome: 'fail', reason: expect.stringContaining('excludes the expected 50.0%') });
    expect(judgeShare({ n: 300, k: 300 }, 100, 'answered 500', opts).outcome).toBe('pass');
    expect(judgeShare({ n: 300, k: 270 }, 100, 'answered 500', opts).outcome).toBe('fail');
  });

  it('too few requests to judge within the precision asked is not observed, never passed', () => {
    expect(judgeShare({ n: 30, k: 15 }, 50, 'answered 500', opts)).toMatchObject({ outcome: 'not observed', reason: expect.stringContaining('too few to judge 50.0% within ±10.0%') });
    expect(judgeShare({ n: 0, k: 0 }, 50, 'answered 500', opts).outcome).toBe('not observed');
    // Few requests, but even the wide interval excludes the share asked for: the fault is shown not to be in force.
    expect(judgeShare({ n: 57, k: 4 }, 100, 'answered 500', opts)).toMatchObject({ outcome: 'fail', reason: expect.stringContaining('excludes the expected 100.0%') });
  });

  it('what carried the mark before the fault counts on top of the requested share', () => {
    // 10 % of requests were already slow; a 50 % delay makes 55 % slow.
    expect(judgeShare({ n: 4000, k: 2200 }, 50, 'took over 1 s', { ...opts, baseline: { n: 4000, k: 400 } }).outcome).toBe('pass');
    expect(judgeShare({ n: 4000, k: 2200 }, 50, 'took over 1 s', opts).outcome).toBe('fail');
  });

  it('after the fault: back to what it was before passes, a fault still there fails', () => {
    expect(judgeRecovered({ n: 300, k: 0 }, 'answered 500', { n: 300, k: 0 }).outcome).toBe('pass');
    expect(judgeRecovered({ n: 300, k: 1 }, 'answered 500', { n: 300, k: 0 }).outcome).toBe('pass');
    expect(judgeRecovered({ n: 300, k: 140 }, 'answered 500', { n: 300, k: 0 })).toMatchObject({ outcome: 'fail', reason: expect.stringContaining('the fault did not vanish') });
    expect(judgeRecovered({ n: 0, k: 0 }, 'answered 500').outcome).toBe('not observed');
  });
});
