import { describeError } from '../../lib/errors.ts';
import { LATENCY_BUCKETS_S, runLoad, type IntervalSample, type LoadPlan, type RunResult } from '../../loadtests/engine.ts';
import { parseComparison } from '../compare.ts';
import type { ProbeOutcome } from './kubernetes.ts';

// HTTP probes. A single request (LitmusChaos httpProbe) for steady-state checks,
// and the budget probe of a game day: the load-test engine drives votes through
// the run and its per-second samples give the error rate and latency the
// budgets are judged on. No second load generator: this is loadtests/engine.ts.

export interface HttpCheckSpec {
  url: string;
  /** Expected status (default 200). */
  status?: number;
  timeoutMs?: number;
}

/** Budgets over the votes sent while the method ran. */
export interface LoadBudgetSpec {
  /** Failed share of votes, e.g. `<= 0.01` or `<= 1%`. */
  errorRate?: string;
  /** 99th percentile of vote latency in ms, e.g. `<= 1000`. */
  p99Ms?: string;
}

export async function httpCheck(s: HttpCheckSpec, signal: AbortSignal): Promise<ProbeOutcome> {
  const want = s.status ?? 200;
  try {
    const res = await fetch(s.url, { signal: AbortSignal.any([signal, AbortSignal.timeout(s.timeoutMs ?? 5000)]) });
    await res.arrayBuffer();
    return { ok: res.status === want, value: res.status, reason: `GET ${s.url} answered HTTP ${res.status} (want ${want})` };
  } catch (err) {
    signal.throwIfAborted();
    return { ok: false, value: 'error', reason: `GET ${s.url} failed: ${describeError(err)}` };
  }
}

/** The engine's class for votes still in flight when its run was stopped. */
const STOPPED = 'aborted';

export interface LoadTotals {
  attempted: number;
  failed: number;
  errors: Record<string, number>;
  /** Upper bound of the latency bucket holding the 99th percentile vote, in ms. */
  p99Ms?: number;
}

/** A load run in the background of a game day, with live figures for the timeline and the budgets. */
export interface BackgroundLoad {
  /** Failed share of the votes in the latest one-second interval, and requests in it. */
  latest(): { errorRate: number; requests: number } | undefined;
  /** Totals over the intervals from `fromT` seconds on (the method's window). */
  totals(fromT?: number): LoadTotals;
  /** Resolves once the load is sending (its preflight done), or once it ended without starting. */
  sending: Promise<void>;
  /** Stop the load and return the engine's (partial) result. */
  stop(): Promise<RunResult | undefined>;
  readonly startedAt: number;
  /** The per-second samples whose whole second lies in [fromMs, toMs] (epoch ms), votes cut off by the stop left out. */
  samplesBetween(fromMs: number, toMs: number): IntervalSample[];
}

/** The 99th percentile vote latency from the engine's per-second histograms (bucket upper bound). */
function p99(samples: IntervalSample[]): number | undefined {
  const buckets = new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0);
  for (const s of samples) s.latencyBuckets.forEach((c, i) => (buckets[i] = (buckets[i] ?? 0) + c));
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= total * 0.99) return i < LATENCY_BUCKETS_S.length ? LATENCY_BUCKETS_S[i]! * 1000 : Infinity;
  }
  return Infinity;
}

export function startBackgroundLoad(plan: LoadPlan, opts: { signal: AbortSignal; onError: (err: unknown) => void }): BackgroundLoad {
  const stopper = new AbortController();
  const samples: IntervalSample[] = [];
  const startedAt = Date.now();
  /** When the engine's second 0 began (its samples count seconds from there). */
  let t0 = startedAt;
  let markSending = () => {};
  const sending = new Promise<void>((resolve) => (markSending = resolve));
  const run = runLoad(plan, {
    signal: AbortSignal.any([opts.signal, stopper.signal]),
    onSample: (s) => samples.push(s),
    onStart: () => {
      t0 = Date.now();
      markSending();
    },
  })
    .catch((err: unknown) => {
      if (!stopper.signal.aborted && !opts.signal.aborted) opts.onError(err);
      return undefined;
    })
    .finally(() => markSending());
  // Votes cut off because the game day stopped the load are neither sent nor failed as far as a budget goes.
  const abortedOf = (s: IntervalSample) => s.errors[STOPPED] ?? 0;
  const failedOf = (s: IntervalSample) => Object.entries(s.errors).reduce((a, [k, v]) => a + (k === STOPPED ? 0 : v), 0);
  return {
    startedAt,
    sending,
    latest() {
      const s = samples[samples.length - 1];
      if (!s) return undefined;
      const sent = s.attempted - abortedOf(s);
      return { errorRate: sent > 0 ? failedOf(s) / sent : 0, requests: s.requests };
    },
    totals(fromT = 0) {
      const window = samples.filter((s) => s.t >= fromT);
      const errors: Record<string, number> = {};
      for (const s of window) for (const [k, v] of Object.entries(s.errors)) if (k !== STOPPED) errors[k] = (errors[k] ?? 0) + v;
      return {
        attempted: window.reduce((n, s) => n + s.attempted - abortedOf(s), 0),
        failed: window.reduce((n, s) => n + failedOf(s), 0),
        errors,
        p99Ms: p99(window),
      };
    },
    async stop() {
      stopper.abort();
      return run;
    },
    samplesBetween(fromMs, toMs) {
      return samples.filter((s) => t0 + s.t * 1000 >= fromMs && t0 + (s.t + 1) * 1000 <= toMs);
    },
  };
}

export function describeLoadBudget(s: LoadBudgetSpec): string {
  const parts = [];
  if (s.errorRate !== undefined) parts.push(`vote error rate ${parseComparison(s.errorRate, 'errorRate').text}`);
  if (s.p99Ms !== undefined) parts.push(`p99 latency ${parseComparison(s.p99Ms, 'p99Ms').text} ms`);
  return parts.join(' and ');
}

/** Judge the budgets on the load totals of the method's window. */
export function judgeLoadBudget(s: LoadBudgetSpec, t: LoadTotals): ProbeOutcome {
  if (t.attempted === 0) return { ok: false, value: 0, reason: 'no votes were sent during the method (is the load running?)' };
  const rate = t.failed / t.attempted;
  const classes = Object.entries(t.errors)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const reasons: string[] = [];
  let ok = true;
  if (s.errorRate !== undefined) {
    const c = parseComparison(s.errorRate, 'errorRate');
    const pass = c.test(rate);
    ok &&= pass;
    reasons.push(`${t.failed} of ${t.attempted} votes failed (${(rate * 100).toFixed(2)}%, budget ${c.text})${classes ? `: ${classes}` : ''}`);
  }
  if (s.p99Ms !== undefined) {
    const c = parseComparison(s.p99Ms, 'p99Ms');
    const pass = t.p99Ms !== undefined && c.test(t.p99Ms);
    ok &&= pass;
    reasons.push(`p99 latency ≤ ${t.p99Ms ?? '?'} ms (budget ${c.text} ms)`);
  }
  return { ok, value: rate, reason: reasons.join('; ') };
}
