import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { consumerOf, drainVotes, readServices, type ServiceReading } from '../drain.ts';
import { compareCounts, describeReconciliation, judgeDrain, sumMetric, type Consumer, type DrainState } from '../reconcile.ts';

// The reconciliation's judgement, pure: counted, lost, or not settled, and why;
// then the drain loop with injected readers (no servers, a few hundred ms); the
// services' metrics read from a loopback server.

describe('backlog from the services\' metrics', () => {
  it('sums every series of a metric and ignores look-alike names', () => {
    const text = [
      `# HELP ${TWIN.votesAccepted} x`,
      `# TYPE ${TWIN.votesAccepted} counter`,
      `${TWIN.votesAccepted}{mode="queue",service="app"} 120`,
      `${TWIN.votesAccepted}{mode="direct",service="app"} 3`,
      `${TWIN.votesAccepted}_created{mode="queue"} 1700000000`,
      `${TWIN.votesRecorded} 100`,
    ].join('\n');
    expect(sumMetric(text, TWIN.votesAccepted)).toBe(123);
    expect(sumMetric(text, TWIN.votesRecorded)).toBe(100);
    expect(sumMetric(text, TWIN.votesProcessed)).toBeUndefined();
  });
});

describe("the services' metrics as the drain reads them", () => {
  it("reads the app's mode from myhero_app_mode (the series at 1), and the backlog from app and data", async () => {
    const pages: Record<string, string> = {
      '/app': [`# TYPE ${TWIN.appMode} gauge`, `${TWIN.appMode}{mode="direct",service="app"} 0`, `${TWIN.appMode}{mode="queue",service="app"} 1`, `${TWIN.votesAccepted}{mode="queue",service="app"} 120`, ''].join('\n'),
      '/data': `${TWIN.votesRecorded}{service="data"} 100\n`,
      '/direct': `${TWIN.appMode}{mode="direct",service="app"} 1\n${TWIN.appMode}{mode="queue",service="app"} 0\n`,
    };
    const server = createServer((req, res) => res.end(pages[req.url ?? ''] ?? ''));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = (path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    try {
      expect(await readServices([{ service: 'app', url: url('/app') }, { service: 'data', url: url('/data') }])).toEqual({ mode: 'queue', backlog: 20, recorded: 100 });
      expect((await readServices([{ service: 'any', url: url('/direct') }])).mode).toBe('direct');
      // No series at 1: the mode is not guessed.
      expect((await readServices([{ service: 'app', url: url('/data') }])).mode).toBeUndefined();
    } finally {
      server.close();
    }
  });
});

describe('per-hero (gross) reconciliation', () => {
  it('shows a loss that a duplicate of another hero hides in the total', () => {
    // 10 Superman and 10 Batman accepted; data recorded 12 Superman (2 redelivered duplicates) and 8 Batman (2 lost).
    const c = compareCounts({ Superman: 10, Batman: 10 }, { Superman: 5, Batman: 1 }, { Superman: 17, Batman: 9 });
    expect(c.net).toEqual({ lost: 0, extra: 0 });
    expect(c).toMatchObject({ recordedDelta: 20, lost: 2, extra: 2, lostByHero: { Batman: 2 }, extraByHero: { Superman: 2 } });
    // The drain does not call it counted, and once judged lost every output says net and gross disagree.
    const s = state({ counts: c, stableForMs: 5000, consumer: { kind: 'none' } });
    expect(judgeDrain(s, policy)).toEqual({ done: true, outcome: 'lost' });
  });

  it('agrees with the total when every hero is whole', () => {
    const c = compareCounts({ Superman: 3 }, {}, { Superman: 3, Hulk: 1 });
    expect(c).toMatchObject({ lost: 0, extra: 1, net: { lost: 0, extra: 1 }, extraByHero: { Hulk: 1 } });
  });
});

const policy = { timeoutMs: 30_000, stableMs: 3_000 };
const counts = (recorded: number, accepted = 100) => compareCounts({ Deadpool: accepted }, {}, { Deadpool: recorded });
const state = (o: Partial<DrainState>): DrainState => ({ acceptedByHero: { Deadpool: 100 }, counts: counts(10), stableForMs: 0, elapsedMs: 0, consumer: { kind: 'unknown' }, ...o });
const working: Consumer = { kind: 'queue', connected: true, progressing: false };

describe('when the drain is over, and how it ended', () => {
  it('counted as soon as every accepted vote is recorded', () => {
    expect(judgeDrain(state({ counts: counts(100) }), policy)).toEqual({ done: true, outcome: 'counted' });
    expect(judgeDrain(state({ counts: counts(99) }), policy)).toEqual({ done: false });
  });

  it('lost only when the count is stable and the consumer demonstrably idle and connected (or there is no queue)', () => {
    expect(judgeDrain(state({ counts: counts(60), stableForMs: 3000, consumer: working }), policy)).toEqual({ done: true, outcome: 'lost' });
    expect(judgeDrain(state({ counts: counts(60), stableForMs: 3000, consumer: { kind: 'none' } }), policy)).toEqual({ done: true, outcome: 'lost' });
    // Not yet stable, or the consumer still processing or retrying: keep waiting.
    expect(judgeDrain(state({ counts: counts(60), stableForMs: 2999, consumer: working }), policy)).toEqual({ done: false });
    expect(judgeDrain(state({ counts: counts(60), stableForMs: 9000, consumer: { ...working, progressing: true } }), policy)).toEqual({ done: false });
    // ernst down, or nothing tells: a stable count is not a loss.
    expect(judgeDrain(state({ counts: counts(60), stableForMs: 9000, consumer: { kind: 'queue', connected: false, progressing: false } }), policy)).toEqual({ done: false });
    expect(judgeDrain(state({ counts: counts(60), stableForMs: 9000 }), policy)).toEqual({ done: false });
  });

  it('not settled at the drain timeout, never lost: count moving, consumer stalled or unknown, final read failed', () => {
    const at = { elapsedMs: 30_000 };
    const moving = judgeDrain(state({ ...at, counts: counts(60), stableForMs: 500, consumer: working }), policy);
    expect(moving).toMatchObject({ done: true, outcome: 'not-settled', by: 'moving', reason: 'drain timeout (30 s) reached before the count stopped moving' });
    const stalled = judgeDrain(state({ ...at, counts: counts(60), stableForMs: 20_000, consumer: { kind: 'queue', connected: false, progressing: false, detail: "ernst's metrics do not answer (is ernst running?)" } }), policy);
    expect(stalled).toMatchObject({ outcome: 'not-settled', by: 'stalled', reason: expect.stringMatching(/consumer stalled, the count stopped 40 votes short: ernst's metrics do not answer/) });
    const unknown = judgeDrain(state({ ...at, counts: counts(60), stableForMs: 20_000 }), policy);
    expect(unknown).toMatchObject({ outcome: 'not-settled', by: 'unknown', reason: expect.stringMatching(/pass --metrics-url/) });
    const read = judgeDrain(state({ ...at, readError: 'http://app/v2/results answered HTTP 500', stableForMs: 20_000, consumer: { kind: 'none' } }), policy);
    expect(read).toMatchObject({ outcome: 'not-settled', by: 'read', reason: expect.stringMatching(/the final read of the recorded votes failed: .*HTTP 500/) });
    // A failed read before the timeout is retried, even when the last good count looked final.
    expect(judgeDrain(state({ readError: 'HTTP 500', stableForMs: 20_000, consumer: { kind: 'none' } }), policy)).toEqual({ done: false });
  });

  it('stops at once after Ctrl-C: counted if it already is, else not settled', () => {
    expect(judgeDrain(state({ counts: counts(100), interrupted: true }), policy)).toMatchObject({ outcome: 'counted' });
    expect(judgeDrain(state({ counts: counts(50), interrupted: true }), policy)).toMatchObject({ outcome: 'not-settled', by: 'interrupted' });
  });
});

describe('the consumer as the drain sees it', () => {
  it('from the mode and ernst\'s metrics', () => {
    const up: ServiceReading = { ernst: { reachable: true, connected: true, progress: 40 } };
    expect(consumerOf(up, 'direct', undefined)).toEqual({ kind: 'none' });
    expect(consumerOf({ mode: 'direct' }, undefined, undefined)).toEqual({ kind: 'none' });
    expect(consumerOf(up, 'queue', 40)).toEqual({ kind: 'queue', connected: true, progressing: false });
    expect(consumerOf(up, 'queue', 35)).toMatchObject({ progressing: true });
    expect(consumerOf({ ernst: { reachable: false } }, 'queue', 40)).toMatchObject({ kind: 'queue', connected: false });
    expect(consumerOf({ ernst: { reachable: true, connected: false, progress: 40 } }, 'queue', 40)).toMatchObject({ connected: false, detail: 'ernst is not connected to the broker' });
    expect(consumerOf(undefined, 'queue', undefined)).toEqual({ kind: 'unknown' });
    expect(consumerOf({ ernst: { reachable: true } }, undefined, undefined)).toEqual({ kind: 'unknown' });
  });
});

describe('draining', () => {
  const accepted = { Deadpool: 100 };

  it('polls until every accepted vote is counted and times the drain', async () => {
    const seq = [0, 20, 50, 80, 100];
    let i = 0;
    const t0 = Date.now();
    const r = await drainVotes({ readCounts: async () => ({ Deadpool: seq[Math.min(i++, seq.length - 1)]! }), acceptedByHero: accepted, before: {}, policy: { timeoutMs: 5000, stableMs: 1000 }, pollMs: 20 });
    expect(r).toMatchObject({ outcome: 'counted', recordedDelta: 100, lost: 0, extra: 0 });
    expect(r.drainSeconds!).toBeGreaterThanOrEqual(0.05);
    // Rounded to 0.1 s.
    expect(r.drainSeconds!).toBeLessThanOrEqual((Date.now() - t0) / 1000 + 0.05);
  });

  it('a drain timeout with the count still moving is not settled, with what is still uncounted', async () => {
    let n = 0;
    const r = await drainVotes({ readCounts: async () => ({ Deadpool: Math.min(99, (n += 3)) }), acceptedByHero: accepted, before: {}, policy: { timeoutMs: 300, stableMs: 1000 }, pollMs: 20 });
    expect(r).toMatchObject({ outcome: 'not-settled', unsettledBy: 'moving', lost: null, extra: null, drainSeconds: null, net: null });
    expect(r.undrained).toBeGreaterThan(0);
    expect(describeReconciliation(r, 100)).toMatch(/^NOT SETTLED: accepted 100, recorded \d+, not yet counted \d+; lost unknown \(drain timeout/);
  });

  it('retries a failing read with backoff within the drain timeout, then says the read failed', async () => {
    const calls: number[] = [];
    const r = await drainVotes({
      readCounts: async () => {
        calls.push(Date.now());
        if (calls.length === 1) return { Deadpool: 40 };
        throw new Error('http://app/v2/results answered HTTP 500');
      },
      acceptedByHero: accepted,
      before: {},
      mode: 'direct',
      policy: { timeoutMs: 1200, stableMs: 100 },
      pollMs: 50,
    });
    expect(r).toMatchObject({ outcome: 'not-settled', unsettledBy: 'read', lost: null, undrained: 60, recordedDelta: 40 });
    expect(r.reason).toMatch(/final read of the recorded votes failed: http:\/\/app\/v2\/results answered HTTP 500/);
    // Backoff: the gaps between attempts grow.
    const gaps = calls.slice(1).map((t, k) => t - calls[k]!);
    expect(gaps.at(-2)!).toBeGreaterThan(gaps[0]! * 1.5);
    expect(calls.length).toBeLessThan(12);
  });

  it('recovers when a failing read answers again: the count is judged, not the failure', async () => {
    let n = 0;
    const r = await drainVotes({
      readCounts: async () => {
        n += 1;
        if (n === 2 || n === 3) throw new Error('HTTP 500');
        return { Deadpool: n < 4 ? 50 : 100 };
      },
      acceptedByHero: accepted,
      before: {},
      policy: { timeoutMs: 5000, stableMs: 1000 },
      pollMs: 20,
    });
    expect(r).toMatchObject({ outcome: 'counted', lost: 0 });
  });

  it('a stalled consumer keeps the drain waiting; once it works again the count settles', async () => {
    let t = 0;
    const r = await drainVotes({
      readCounts: async () => ({ Deadpool: t < 8 ? 60 : Math.min(100, 60 + (t - 8) * 10) }),
      readServices: async () => {
        t += 1;
        return { ernst: t < 8 ? { reachable: false } : { reachable: true, connected: true, progress: t } };
      },
      mode: 'queue',
      acceptedByHero: accepted,
      before: {},
      policy: { timeoutMs: 5000, stableMs: 60 },
      pollMs: 20,
    });
    // With the 60 ms stable rule alone the drain would have ended at 60 recorded, "lost 40".
    expect(r).toMatchObject({ outcome: 'counted', lost: 0, recordedDelta: 100 });
  });
});
