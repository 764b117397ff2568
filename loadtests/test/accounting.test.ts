import { describe, expect, it } from 'vitest';
import {
  addInterval,
  bucketIndex,
  emptyInterval,
  encodeHistogram,
  failedOf,
  latencyHistogram,
  median,
  mergeHistograms,
  percentiles,
} from '../accounting.ts';
import { profileOf } from '../schedule.ts';
import { SeriesMerger } from '../series.ts';
import { classifyError, classifyK6Error, classifyRead, classifyVote, lostAndExtra, totalVotes } from '../votes.ts';

const err = (code: string) => Object.assign(new Error(code), { code });

describe('classification', () => {
  it('accepts only HTTP 200 with the body "vote submitted"', () => {
    expect(classifyVote(200, '{"result": "vote submitted"}')).toBe('accepted');
    expect(classifyVote(200, '{\n  "result": "vote submitted"\n}\n')).toBe('accepted');
    // myhero answers a failed vote with HTTP 200 too.
    expect(classifyVote(200, '{"result": "vote submission failed"}')).toBe('vote_failed');
    expect(classifyVote(200, 'vote submitted')).toBe('other');
    expect(classifyVote(200, '{"result": "1"}')).toBe('other');
    expect(classifyVote(200, '')).toBe('other');
    expect(classifyVote(201, '{"result": "vote submitted"}')).toBe('http_201');
    expect(classifyVote(401, '{"Error": "Invalid Key Provided."}')).toBe('http_401');
    expect(classifyVote(503, '')).toBe('http_503');
  });

  it('classifies reads by status and transport failures by errno', () => {
    expect(classifyRead(200)).toBe('accepted');
    expect(classifyRead(500)).toBe('http_500');
    expect(classifyError(err('ECONNREFUSED'))).toBe('refused');
    expect(classifyError(err('ECONNRESET'))).toBe('reset');
    expect(classifyError(err('EPIPE'))).toBe('reset');
    expect(classifyError(err('ETIMEDOUT'))).toBe('timeout');
    expect(classifyError(err('EHOSTUNREACH'))).toBe('other');
    expect(classifyError(undefined)).toBe('other');
  });

  it("classifies k6's transport failures by its error codes, into the same classes", () => {
    expect([1050, 1211].map(classifyK6Error)).toEqual(['timeout', 'timeout']);
    expect(classifyK6Error(1212)).toBe('refused');
    expect([1220, 1201].map(classifyK6Error)).toEqual(['reset', 'reset']);
    expect(classifyK6Error(1101)).toBe('other');
  });
});

describe('per-second series', () => {
  it('merges shards second by second and keeps latency buckets and errors', () => {
    const a0 = { ...emptyInterval(0), requests: 10, attempted: 9, accepted: 8, errors: { vote_failed: 1 } };
    a0.latencyBuckets[bucketIndex(3)] = 9;
    a0.latencySumMs = 27;
    const a1 = { ...emptyInterval(1), requests: 5, attempted: 5, accepted: 5 };
    const b0 = { ...emptyInterval(0), requests: 4, attempted: 4, accepted: 2, errors: { vote_failed: 1, http_503: 1 }, readErrors: 0 };
    b0.latencyBuckets[bucketIndex(20_000)] = 4;
    // Two shards: second 0 is emitted once both reported it; second 1 (one shard only) comes with the flush.
    const merger = new SeriesMerger(2, profileOf(5, 2000), true);
    for (const i of [a0, a1, b0]) merger.add(i);
    expect(merger.samples.map((s) => s.t)).toEqual([0]);
    const merged = merger.flush();
    expect(merged.map((s) => s.t)).toEqual([0, 1]);
    expect(merged.map((s) => s.level)).toEqual([5, 5]);
    expect(merged[0]).toMatchObject({ requests: 14, attempted: 13, accepted: 10, errors: { vote_failed: 2, http_503: 1 }, latencySumMs: 27 });
    expect(merged[0]!.latencyBuckets[0]).toBe(9);
    expect(merged[0]!.latencyBuckets.at(-1)).toBe(4);
    expect(failedOf(merged[0]!)).toBe(3);
    expect(addInterval(emptyInterval(1), a1).accepted).toBe(5);
  });

  it('buckets latencies by the Prometheus upper bounds, +Inf last', () => {
    expect(bucketIndex(0.2)).toBe(0);
    expect(bucketIndex(5)).toBe(0);
    expect(bucketIndex(5.1)).toBe(1);
    expect(bucketIndex(1000)).toBe(7);
    expect(bucketIndex(60_000)).toBe(11);
  });
});

describe('HDR percentiles', () => {
  it('reads p50/p90/p99/p99.9/max from a histogram, merged over shards', () => {
    const a = latencyHistogram();
    const b = latencyHistogram();
    // 1..1000 ms in µs, split over two shards.
    for (let ms = 1; ms <= 1000; ms++) (ms % 2 ? a : b).recordValue(ms * 1000);
    const merged = mergeHistograms([encodeHistogram(a), encodeHistogram(b)]);
    const p = percentiles(merged);
    expect(merged.totalCount).toBe(1000);
    // HDR with 3 significant digits: within 0.1 %.
    expect(p.p50).toBeCloseTo(500, -1);
    expect(p.p90).toBeCloseTo(900, -1);
    expect(p.p99).toBeCloseTo(990, -1);
    expect(p.p999).toBeCloseTo(999, -1);
    expect(Math.abs(p.max - 1000)).toBeLessThan(1);
  });

  it('reports zeros for an empty histogram', () => {
    expect(percentiles(latencyHistogram())).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  });

  it('shows a tail that an average would hide', () => {
    const h = latencyHistogram();
    for (let i = 0; i < 990; i++) h.recordValue(2_000);
    for (let i = 0; i < 10; i++) h.recordValue(2_000_000);
    const p = percentiles(h);
    expect(p.p50).toBeCloseTo(2, 1);
    expect(p.p99).toBeCloseTo(2, 1);
    expect(p.p999).toBeGreaterThan(1990);
  });
});

describe('reconciliation', () => {
  it('counts accepted votes never recorded as lost, never negative', () => {
    expect(lostAndExtra(100, 100)).toEqual({ lost: 0, extra: 0 });
    expect(lostAndExtra(100, 90)).toEqual({ lost: 10, extra: 0 });
  });

  it('reports an excess separately as extra (e.g. failed answers whose vote was stored)', () => {
    expect(lostAndExtra(100, 112)).toEqual({ lost: 0, extra: 12 });
  });

  it('sums /v2/results rows and rejects anything else', () => {
    expect(totalVotes([['Deadpool', 2, 66.6], ['Superman', 1, 33.3]])).toBe(3);
    expect(totalVotes([])).toBe(0);
    expect(() => totalVotes({ Deadpool: 2 })).toThrow(/list/);
    expect(() => totalVotes([['Deadpool', 'x', 1]])).toThrow(/list/);
  });

  it('takes medians of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});
