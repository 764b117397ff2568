import * as hdr from 'hdr-histogram-js';
import type { Percentiles } from './figures.ts';

// Honest accounting, pure: the per-second series and latency percentiles from HDR
// histograms. What an answer counts as is decided in votes.ts, which the k6 script
// shares (this module's histograms cannot go into k6).

/** Counts for one slice of a run (a second, the measured window, the whole run). */
export interface Tally {
  /** Every request sent (votes and reads). */
  requests: number;
  /** Votes sent. */
  attempted: number;
  accepted: number;
  /** Failed votes by class. */
  errors: Record<string, number>;
  /** Reads that failed. */
  readErrors: number;
  /**
   * Requests that went out on a new connection because the server closed the previous one
   * (`Connection: close`, HTTP/1.0, an idle timeout) or it failed. Not failures by themselves.
   */
  reconnects: number;
}

export function emptyTally(): Tally {
  return { requests: 0, attempted: 0, accepted: 0, errors: {}, readErrors: 0, reconnects: 0 };
}

export function addTally(into: Tally, from: Tally): Tally {
  into.requests += from.requests;
  into.attempted += from.attempted;
  into.accepted += from.accepted;
  into.readErrors += from.readErrors;
  into.reconnects += from.reconnects;
  for (const [k, v] of Object.entries(from.errors)) into.errors[k] = (into.errors[k] ?? 0) + v;
  return into;
}

export function failedOf(t: Tally): number {
  return Object.values(t.errors).reduce((a, b) => a + b, 0);
}

/** Upper bounds (seconds) of the live latency histogram buckets; counts per bucket travel with each sample. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export function bucketIndex(latencyMs: number): number {
  const s = latencyMs / 1000;
  for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (s <= LATENCY_BUCKETS_S[i]!) return i;
  return LATENCY_BUCKETS_S.length;
}

/** One second of a run (t = seconds since the start, counted by completion time). */
export interface Interval extends Tally {
  t: number;
  /** Vote latencies of the second, per LATENCY_BUCKETS_S bucket (last = +Inf), and their sum. */
  latencyBuckets: number[];
  latencySumMs: number;
}

export function emptyInterval(t: number): Interval {
  return { t, ...emptyTally(), latencyBuckets: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), latencySumMs: 0 };
}

export function addInterval(into: Interval, from: Interval): Interval {
  addTally(into, from);
  from.latencyBuckets.forEach((c, i) => (into.latencyBuckets[i] = (into.latencyBuckets[i] ?? 0) + c));
  into.latencySumMs += from.latencySumMs;
  return into;
}

/** Latency histograms record microseconds: 1 µs resolution up to an hour, 3 significant digits. */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Sum encoded histograms (one per shard) into one. */
export function mergeHistograms(encoded: readonly string[]): hdr.Histogram {
  const total = latencyHistogram();
  for (const e of encoded) {
    const h = hdr.decodeFromCompressedBase64(e);
    total.add(h);
    h.destroy();
  }
  return total;
}

const ms = (us: number) => Math.round(us) / 1000;

/** Latency percentiles in milliseconds (0 for an empty histogram). */
export function percentiles(h: hdr.Histogram): Percentiles {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
