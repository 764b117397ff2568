import { describe, expect, it } from 'vitest';
import { mergeHistograms, percentiles } from '../accounting.ts';
import { closedPacer } from '../pacers/closed.ts';
import { openPacer } from '../pacers/open.ts';
import { profileOf, stepStages } from '../schedule.ts';
import { ShardTally } from '../tally.ts';

// The engine's pure parts, fed directly: what a shard counts, and when each
// load model's pacer sends.

const T0 = 1_000_000;

describe('the shard tally', () => {
  it('counts outcomes into the whole run, the measured window, the seconds and per hero', () => {
    const t = new ShardTally(T0, 1000);
    t.record('vote', 'Hulk', T0 + 100, T0 + 150, 'accepted');
    t.record('vote', 'Hulk', T0 + 1200, T0 + 1210, 'accepted');
    t.record('vote', 'Thor', T0 + 1300, T0 + 2400, 'vote_failed');
    t.record('results', undefined, T0 + 1400, T0 + 1401, 'http_500');
    t.reconnect(T0 + 1500);
    const seconds = t.takeSeconds(2);
    expect(seconds.map((s) => [s.t, s.accepted, s.requests, s.reconnects])).toEqual([
      [0, 1, 1, 0],
      [1, 1, 2, 1],
    ]);
    // A second is handed out once; the rest (the failed vote answered at 2.4 s) comes with takeRest.
    expect(t.takeSeconds(2)).toEqual([]);
    expect(t.takeRest().map((s) => [s.t, s.errors])).toEqual([[2, { vote_failed: 1 }]]);
    const r = t.result();
    expect(r.total).toEqual({ requests: 4, attempted: 3, accepted: 2, errors: { vote_failed: 1 }, readErrors: 1, reconnects: 1 });
    // The warm-up's vote is in the total (reconciliation needs it), not in the measured window.
    expect(r.measured).toMatchObject({ attempted: 2, accepted: 1, readErrors: 1, reconnects: 1 });
    expect(r.acceptedByHero).toEqual({ Hulk: 2 });
    expect(r.lastAnswerAt).toBe(T0 + 2400);
    const h = mergeHistograms([r.latency]);
    expect(h.totalCount).toBe(2);
    expect(percentiles(h).max).toBeCloseTo(1100, -1);
  });

  it('counts each window by intended time, with its own latencies', () => {
    const t = new ShardTally(T0, 0, [
      { startMs: 0, endMs: 1000 },
      { startMs: 1500, endMs: 2500 },
    ]);
    for (let ms = 0; ms < 3000; ms += 100) t.record('vote', 'Hulk', T0 + ms, T0 + ms + (ms < 1500 ? 5 : 50), 'accepted');
    const [a, b] = t.result().windows;
    expect(a!.tally.accepted).toBe(10);
    expect(b!.tally.accepted).toBe(10);
    expect(percentiles(mergeHistograms([a!.latency])).p99).toBeCloseTo(5, 0);
    expect(percentiles(mergeHistograms([b!.latency])).p50).toBeCloseTo(50, 0);
  });
});

describe('pacers', () => {
  const timing = { startAt: T0, endAt: T0 + 2000 };

  it('closed: a voter sends when its previous answer came plus think time, retries after a failed connection, and stops at the end', () => {
    const p = closedPacer({ profile: profileOf(2, 2000), thinkMs: 300, shard: 0, shards: 1 }, timing);
    expect(p.next(0, T0)).toEqual({ at: T0, intendedAt: T0 });
    p.finished(0, T0 + 50, false);
    expect(p.next(0, T0 + 50)).toEqual({ at: T0 + 350, recheck: true });
    expect(p.next(0, T0 + 350)).toEqual({ at: T0 + 350, intendedAt: T0 + 350 });
    p.finished(1, T0 + 400, true);
    expect(p.next(1, T0 + 400)).toEqual({ at: T0 + 700, recheck: true });
    expect(p.next(0, T0 + 2000)).toBeUndefined();
    expect(p.dropped()).toBe(0);
  });

  it('closed: under a ramp, voters become active in turn', () => {
    const p = closedPacer({ profile: profileOf(0, 2000, [{ durationMs: 2000, target: 4 }]), thinkMs: 0, shard: 0, shards: 1 }, timing);
    // At 0.3 s the level is 0.6: voter 0 is active, voter 1 waits and asks again; at 0.6 s (1.2) it is active.
    expect(p.next(0, T0 + 300)).toMatchObject({ intendedAt: T0 + 300 });
    expect(p.next(1, T0 + 300)).toEqual({ at: T0 + 350, recheck: true });
    expect(p.next(1, T0 + 600)).toMatchObject({ intendedAt: T0 + 600 });
  });

  it('open: runs fixed-rate steps with a pause between them exactly, and counts what no connection sent', () => {
    // 20/s for 1 s, nothing for 0.5 s, 40/s for 0.5 s: 40 arrivals, none in the pause.
    const stages = stepStages([
      { durationMs: 1000, level: 20 },
      { durationMs: 500, level: 0 },
      { durationMs: 500, level: 40 },
    ]);
    const profile = profileOf(0, 2000, stages);
    const p = openPacer({ profile, shard: 0, shards: 1 }, timing);
    const sent: number[] = [];
    for (let next = p.next(0, T0); next; next = p.next(0, 'intendedAt' in next ? next.intendedAt : next.at)) sent.push(('intendedAt' in next ? next.intendedAt : 0) - T0);
    expect(sent).toHaveLength(40);
    expect(sent.filter((ms) => ms < 1000)).toHaveLength(20);
    expect(sent.filter((ms) => ms >= 1000 && ms < 1500)).toEqual([]);
    expect(sent.filter((ms) => ms >= 1500)).toHaveLength(20);
    expect(sent[1]! - sent[0]!).toBeCloseTo(50);
    expect(sent.at(-1)! - sent.at(-2)!).toBeCloseTo(25);
    expect(p.dropped()).toBe(0);

    // Two shards deal the arrivals round-robin; a late connection takes its arrival at once.
    const a = openPacer({ profile, shard: 0, shards: 2 }, timing);
    const b = openPacer({ profile, shard: 1, shards: 2 }, timing);
    expect(a.next(0, T0)).toEqual({ at: T0, intendedAt: T0 });
    expect(b.next(0, T0)).toEqual({ at: T0 + 50, intendedAt: T0 + 50 });
    expect(a.next(0, T0 + 500)).toEqual({ at: T0 + 500, intendedAt: T0 + 100 });
    expect(a.dropped()).toBe(18);
  });
});
