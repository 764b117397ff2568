import type { Outcome } from './journal.ts';

// How an injected HTTP fault is judged from what the traffic saw. A fault of P %
// marks each request independently with probability P (Envoy draws per request),
// so the number of marked requests among n is binomial: the verdict asks whether
// the observed share is consistent with the requested one, using the Wilson score
// interval of the observation at 99.9 % (z = 3.29). That is a two-sided binomial
// test at the 0.1 % level: a fault applied as requested fails it once in a
// thousand runs, and a share off by more than about the interval's half-width
// (3.29·√(P(1−P)/n): ±8 points for P = 50 % and n = 400) fails it. When the run
// saw too few requests for the interval to be that narrow (the precision asked
// for), the verdict is "not observed", never passed — unless even that wide
// interval excludes the requested share: then the run has shown the fault is not
// what was asked, and fails.

/** z for a two-sided 99.9 % interval. */
export const Z_999 = 3.29;

/** Requests seen in a window, and how many of them carried the fault's mark (its abort status, or the delay). */
export interface Share {
  n: number;
  k: number;
}

/** The Wilson score interval of k successes in n trials. */
export function wilson({ k, n }: Share, z = Z_999): { lo: number; hi: number } {
  if (n === 0) return { lo: 0, hi: 1 };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 or k = n the interval reaches 0 or 1 exactly (in floating point it may miss by an ulp).
  return { lo: k === 0 ? 0 : Math.max(0, centre - half), hi: k === n ? 1 : Math.min(1, centre + half) };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const shareText = (s: Share, what: string) => `${s.k} of ${s.n} requests ${what} (${s.n ? pct(s.k / s.n) : 'n/a'})`;

export interface ShareVerdict {
  outcome: Outcome;
  reason: string;
}

/**
 * The fault's share: requested `percent` of the requests, on top of what already
 * carried the mark before the fault (`baseline`, e.g. a slow request that was slow
 * anyway): expected = P + (1 − P)·b. Fail when the observation's interval excludes
 * expected; otherwise pass, or not observed when the interval is wider than ±`precision`.
 */
export function judgeShare(observed: Share, percent: number, what: string, opts: { baseline?: Share; precision: number }): ShareVerdict {
  const b = opts.baseline && opts.baseline.n > 0 ? opts.baseline.k / opts.baseline.n : 0;
  const expected = percent / 100 + (1 - percent / 100) * b;
  const { lo, hi } = wilson(observed);
  const interval = `99.9% interval [${pct(lo)}, ${pct(hi)}]`;
  const onTop = b > 0 ? ` (${percent}% requested on top of the ${pct(b)} seen before the fault)` : '';
  if (observed.n === 0) return { outcome: 'not observed', reason: `no requests were measured while the fault was in force` };
  const ok = expected >= lo && expected <= hi;
  if (ok && (hi - lo) / 2 > opts.precision) {
    return {
      outcome: 'not observed',
      reason: `${shareText(observed, what)}: too few to judge ${pct(expected)} within ±${pct(opts.precision)} (${interval}); run the fault longer or under more load`,
    };
  }
  return {
    outcome: ok ? 'pass' : 'fail',
    reason: `${shareText(observed, what)}, ${interval} ${ok ? 'contains' : 'excludes'} the expected ${pct(expected)}${onTop}`,
  };
}

/**
 * After the fault was removed, the share is back where it was before it: the two
 * observations' intervals overlap (no baseline: the interval reaches 0).
 */
export function judgeRecovered(after: Share, what: string, baseline?: Share): ShareVerdict {
  if (after.n === 0) return { outcome: 'not observed', reason: 'no requests were measured after the fault was removed' };
  const a = wilson(after);
  const base = baseline && baseline.n > 0 ? baseline : undefined;
  const b = base ? wilson(base) : { lo: 0, hi: 0 };
  const ok = a.lo <= b.hi && b.lo <= a.hi;
  const before = base ? `before the fault ${shareText(base, what)}` : 'no measurement before the fault (taken as none)';
  return {
    outcome: ok ? 'pass' : 'fail',
    reason: `${shareText(after, what)} after the fault was removed; ${before}${ok ? '' : ': the fault did not vanish'}`,
  };
}
