import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, UserError } from '../../lib/errors.ts';
import { exitCode } from '../cli.ts';
import { runLoad, type IntervalSample } from '../engine.ts';
import type { LoadPlan } from '../plan.ts';
import { stepStages } from '../schedule.ts';
import { startFakeApp, type FakeApp, type FakeAppOptions } from './fixtures/fake-app.ts';

// The engine against a loopback stand-in of myhero-app that counts what it did:
// the runner's accounting must match that truth exactly.

let app: FakeApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function target(o: FakeAppOptions = {}) {
  app = await startFakeApp(o);
  return app;
}

const plan = (a: FakeApp, o: Partial<LoadPlan> = {}): LoadPlan => ({
  target: a.url,
  key: 'K',
  model: { kind: 'closed', voters: 8 },
  durationMs: 1500,
  mix: { weights: { vote: 90, results: 8, options: 2 } },
  reconcile: { drainTimeoutMs: 5000, stableMs: 500 },
  seed: 42,
  ...o,
});

describe('runLoad', () => {
  it('classifies every answer by status and body, and matches the target\'s own count', async () => {
    const a = await target({ vote: (n) => (n % 10 === 3 ? 'failed' : n % 25 === 7 ? { status: 503 } : 'ok') });
    const samples: IntervalSample[] = [];
    const events: string[] = [];
    const r = await runLoad(plan(a), {
      onStart: () => events.push(`start after ${a.truth.votes} votes`),
      onSample: (s) => {
        samples.push(s);
        events.push('sample');
      },
    });
    // onStart comes once, after the preflight and before any vote or sample.
    expect(events[0]).toBe('start after 0 votes');
    expect(events.filter((e) => e.startsWith('start'))).toHaveLength(1);
    expect(r.attempted).toBe(a.truth.votes);
    expect(r.accepted).toBe(a.truth.ok);
    expect(r.errors.vote_failed).toBe(a.truth.failed);
    expect(r.errors.http_503).toBe(a.truth.http);
    expect(r.failed).toBe(a.truth.failed + a.truth.http);
    expect(r.attempted).toBe(r.accepted + r.failed);
    expect(r.accepted).toBeGreaterThan(100);
    expect(r).toMatchObject({ recordedDelta: a.truth.ok, lost: 0, extra: 0, partial: false, reconciled: true });
    // Per-second series add up to the totals, and the reads of the mix happened.
    expect(samples.reduce((n, s) => n + s.accepted, 0)).toBe(r.accepted);
    expect(samples.every((s) => s.level === 8)).toBe(true);
    expect(r.requestsPerSec).toBeGreaterThan(r.acceptedPerSec);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(r.latencyMs.p99);
    expect(r.conditions).toMatchObject({ model: 'closed', voters: 8, durationSeconds: 1.5, backlogSource: 'recorded-vs-accepted' });
    expect(JSON.stringify(r)).not.toContain('"K"');
  });

  it('waits for a draining queue and reports lost and extra votes from /v2/results', async () => {
    const draining = await target({ recordDelayMs: 1200 });
    const r = await runLoad(plan(draining, { durationMs: 800 }));
    expect(r.lost).toBe(0);
    expect(r.recordedDelta).toBe(draining.truth.ok);
    expect(r.drainSeconds).toBeGreaterThanOrEqual(0.5);
    expect(r.backlog.some((b) => b.votes > 0)).toBe(true);
    expect(r.backlog.at(-1)!.votes).toBe(0);
    await draining.stop();

    const lossy = await target({ loseEvery: 10, vote: (n) => (n % 5 === 0 ? 'failed' : 'ok') });
    // Direct mode has no queue: once the count is stable for the window, what is missing is lost.
    const l = await runLoad(plan(lossy, { durationMs: 800, appMode: 'direct' }));
    expect(l.outcome).toBe('lost');
    expect(l.lost).toBe(Math.floor(lossy.truth.ok / 10));
    expect(l.extra).toBe(0);
    await lossy.stop();

    const late = await target({ recordFailed: true, vote: (n) => (n % 4 === 0 ? 'failed' : 'ok') });
    const e = await runLoad(plan(late, { durationMs: 800 }));
    expect(e).toMatchObject({ lost: 0, extra: late.truth.failed });
  });

  it('against a Connection: close server (the original\'s Werkzeug): every request on a new connection, no phantom failure', async () => {
    // Votes answered HTTP 500 with an HTML page count as http_500; nothing else fails.
    const a = await target({ connectionClose: true, vote: (n) => (n % 10 === 3 ? { status: 500, html: true } : 'ok') });
    const r = await runLoad(plan(a, { model: { kind: 'closed', voters: 4 }, durationMs: 1200 }));
    expect(r.attempted).toBe(a.truth.votes);
    expect(r.accepted).toBe(a.truth.ok);
    expect(r.errors).toEqual({ http_500: a.truth.http });
    expect(r.accepted).toBeGreaterThan(50);
    const requests = r.series.reduce((n, x) => n + x.requests, 0);
    // The server saw one connection per request (plus each voter's next one, and the preflight reads).
    expect(r.reconnects).toBe(requests - 4);
    expect(a.truth.connections).toBeGreaterThanOrEqual(requests);
    expect(r).toMatchObject({ outcome: 'counted', lost: 0, extra: 0 });
  });

  it('a final read that keeps failing is not settled: lost unknown, with the reason, after retrying within the drain timeout', async () => {
    const a = await target({ recordDelayMs: 5000 });
    const r = await runLoad(plan(a, { durationMs: 600, reconcile: { drainTimeoutMs: 1500, stableMs: 500 } }), {
      onStart: () => setTimeout(() => (a.failResults = true), 300),
    });
    expect(r).toMatchObject({ outcome: 'not-settled', unsettledBy: 'read', lost: null, extra: null, drainSeconds: null, net: null });
    expect(r.reason).toMatch(/final read of the recorded votes failed: .*\/v2\/results answered HTTP 500/);
    expect(r.accepted).toBe(a.truth.ok);
  });

  it('a target that goes away mid-run: its refused votes are counted, and the run cannot be judged (exit 3)', async () => {
    const a = await target({ vote: () => ({ delayMs: 5 }) });
    const r = await runLoad(plan(a, { durationMs: 1500, reconcile: false }), { onStart: () => setTimeout(() => void a.stop(), 500) });
    app = undefined;
    expect(r.errors.refused).toBeGreaterThan(0);
    expect(r.unjudged).toMatch(/^the target refused connections during the run \(\d+ votes?\): it was not there for part of the load$/);
    expect(exitCode(false, [], [r])).toBe(EXIT.unjudged);
    // The negative control: the same figures without the refusals are judged on their thresholds.
    const { unjudged: _u, ...judged } = r;
    expect(exitCode(false, [{ threshold: 'p99<1ms', actual: 5, ok: false }], [judged])).toBe(EXIT.failed);
    expect(exitCode(false, [{ threshold: 'lost==0', actual: null, ok: false, unknown: true }], [judged])).toBe(EXIT.unjudged);
    expect(exitCode(true, [], [r])).toBe(EXIT.interrupted);
  });

  it('starts at once against connections that cannot open: the start waits only for connections that are still connecting', async () => {
    const a = await target();
    const url = a.url;
    await a.stop();
    app = undefined;
    const t0 = Date.now();
    const r = await runLoad({ target: url, key: 'K', model: { kind: 'open', rate: 50 }, durationMs: 600, mix: { heroes: ['Hulk'], weights: { vote: 1, results: 0, options: 0 } }, reconcile: false });
    // Without the refused connections counting as settled, the start would have waited 3 s for them.
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(r.errors.refused).toBeGreaterThan(0);
    expect(r.unjudged).toMatch(/refused connections/);
  });

  it('names the data tier when the app answers /health but not /options', async () => {
    const half = createServer((req, res) => {
      if (req.url === '/health') return void res.end('Service up.');
      res.writeHead(500, { 'content-type': 'text/html' }).end('<!doctype html><title>500 Internal Server Error</title>');
    });
    await new Promise<void>((r) => half.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(half.address() as AddressInfo).port}`;
    const err = await runLoad({ target: url, key: 'K', model: { kind: 'closed', voters: 1 }, durationMs: 500 }).catch((e: unknown) => e);
    half.close();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(3);
    expect((err as UserError).message).toBe(`${url} answers /health but /options answered HTTP 500: the app is up and its data tier is not answering (is myhero-data running and reachable from the app?)`);
  });

  it('reports per-step figures of an open model run in fixed-rate steps', async () => {
    const a = await target({ vote: () => ({ delayMs: 2 }) });
    const r = await runLoad(
      plan(a, {
        model: { kind: 'open', rate: 40 },
        stages: stepStages([
          { durationMs: 1000, level: 20 },
          { durationMs: 300, level: 0 },
          { durationMs: 1000, level: 40 },
        ]),
        durationMs: 2300,
        windows: [
          { startMs: 0, endMs: 1000 },
          { startMs: 1300, endMs: 2300 },
        ],
        mix: { weights: { vote: 1, results: 0, options: 0 } },
        reconcile: false,
      }),
    );
    expect(r.windows!.map((w) => w.attempted)).toEqual([20, 40]);
    expect(r.windows!.map((w) => w.acceptedPerSec)).toEqual([20, 40]);
    expect(r.windows![1]!.latencyMs.p50).toBeLessThan(100);
    expect(r.dropped).toBe(0);
    expect(r.generatorLagMs.max).toBeGreaterThan(0);
  });

  it('spreads an open model\'s votes over the heroes when each of many connections sends only one or two', async () => {
    const heroes = Array.from({ length: 10 }, (_, i) => `Hero ${i}`);
    const a = await target({ heroes });
    const r = await runLoad(plan(a, { model: { kind: 'open', rate: 200 }, durationMs: 500, mix: { weights: { vote: 1, results: 0, options: 0 } } }));
    expect(r.conditions.connections).toBe(200);
    expect(r.acceptedTotal).toBe(100);
    // Each connection starts at its own place in the request cycle: not every first request for one hero.
    expect(Object.keys(r.acceptedByHero).length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...Object.values(r.acceptedByHero))).toBeLessThan(30);
    expect(r.lost).toBe(0);
  });

  it('states the stored rate: recorded/s over load and drain, the backlog\'s growth, and the drain it predicts', async () => {
    // Votes are accepted at once and recorded at 40/s, as a queue drained by a Pi-like data tier.
    const a = await target({ recordPerSec: 40 });
    const r = await runLoad(plan(a, { model: { kind: 'open', rate: 100 }, durationMs: 1500, mix: { weights: { vote: 1, results: 0, options: 0 } }, reconcile: { drainTimeoutMs: 10_000, stableMs: 500 } }));
    expect(r).toMatchObject({ outcome: 'counted', lost: 0, acceptedTotal: 150 });
    // About 60 of 150 recorded while the load ran: a backlog of about 90, grown at about 60/s.
    expect(r.backlogAtLoadEnd!).toBeGreaterThan(70);
    expect(r.backlogAtLoadEnd!).toBeLessThan(110);
    expect(r.backlogGrowthPerSec!).toBeGreaterThan(45);
    expect(r.backlogGrowthPerSec!).toBeLessThan(75);
    // Recorded at the data tier's pace over load and drain, whatever was accepted.
    expect(r.recordedPerSec!).toBeGreaterThan(32);
    expect(r.recordedPerSec!).toBeLessThan(45);
    // The drain the backlog predicts is the drain measured (within the 250 ms polls).
    expect(Math.abs(r.predictedDrainSeconds! - r.drainSeconds!)).toBeLessThan(0.6);
    expect(r.backlog.filter((b) => b.recorded !== undefined).at(-1)!.recorded).toBe(150);
  });

  it('counts resets and timeouts by class', async () => {
    const a = await target({ vote: (n) => (n === 5 || n === 40 ? 'hang' : n % 30 === 11 ? 'reset' : 'ok') });
    const r = await runLoad(plan(a, { durationMs: 1200, timeoutMs: 1000 }));
    expect(r.errors.reset).toBe(a.truth.reset);
    expect(r.attempted).toBe(a.truth.votes);
    // The two hung votes time out; on a starved machine an answered vote may also miss the 1 s timeout.
    const late = r.errors.timeout! - 2;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(r.accepted + late).toBe(a.truth.ok);
  });

  it('measures open-model latency from the intended send time (no coordinated omission)', async () => {
    // The target takes 50 ms per vote, one at a time: 20 votes/s. Asked for 40/s, answers fall
    // further and further behind the schedule; a closed-loop measure would show ~50–100 ms.
    const a = await target({ serialMs: 50 });
    const r = await runLoad(plan(a, { model: { kind: 'open', rate: 40, connections: 60 }, durationMs: 1500, mix: { weights: { vote: 1, results: 0, options: 0 } }, reconcile: false }));
    expect(r.accepted).toBe(a.truth.ok);
    expect(r.latencyMs.p50).toBeGreaterThan(300);
    expect(r.latencyMs.p99).toBeGreaterThan(1000);
    expect(r.acceptedPerSec).toBeLessThan(30);
    // Rates count the answers over the time they took, not over the planned 1.5 s.
    expect(r.measuredSeconds).toBeGreaterThan(2.5);
    expect(r.conditions).toMatchObject({ model: 'open', rate: 40, connections: 60 });

    // With spare capacity the same schedule is kept: ~50 requests/s, latency near the service time.
    const fast = await target({ vote: () => ({ delayMs: 5 }) });
    const f = await runLoad(plan(fast, { model: { kind: 'open', rate: 50 }, durationMs: 2000, mix: { weights: { vote: 1, results: 0, options: 0 } }, reconcile: false }));
    expect(f.attempted).toBeGreaterThanOrEqual(95);
    expect(f.attempted).toBeLessThanOrEqual(100);
    expect(f.dropped).toBe(0);
    expect(f.latencyMs.p50).toBeLessThan(100);
  });

  it('drops open-model arrivals no connection could send, and says so', async () => {
    const a = await target({ vote: () => ({ delayMs: 200 }) });
    const r = await runLoad(plan(a, { model: { kind: 'open', rate: 100, connections: 2 }, durationMs: 1000, mix: { weights: { vote: 1, results: 0, options: 0 } }, reconcile: false }));
    // 2 connections × 5 answers/s ≈ 10 sent of 100 scheduled.
    expect(r.attempted).toBeLessThanOrEqual(14);
    expect(r.dropped + r.attempted).toBe(100);
  });

  it('ramps voters through stages and excludes the warm-up from the rates', async () => {
    const a = await target({ vote: () => ({ delayMs: 20 }) });
    const samples: IntervalSample[] = [];
    const r = await runLoad(
      plan(a, { stages: [{ durationMs: 2000, target: 10 }, { durationMs: 1000, target: 10 }], durationMs: 3000, warmupMs: 1000, mix: { weights: { vote: 1, results: 0, options: 0 } } }),
      { onSample: (s) => samples.push(s) },
    );
    expect(samples[0]!.level).toBeLessThan(samples[2]!.level);
    expect(samples[0]!.accepted).toBeLessThan(samples[2]!.accepted);
    expect(r.acceptedTotal).toBe(a.truth.ok);
    expect(r.accepted).toBeLessThan(r.acceptedTotal);
    expect(r.measuredSeconds).toBeGreaterThanOrEqual(2);
    expect(r.measuredSeconds).toBeLessThan(2.3);
    expect(r.lost).toBe(0);
  });

  it('splits the load over worker threads with the same accounting', async () => {
    const a = await target({ vote: (n) => (n % 7 === 0 ? 'failed' : 'ok') });
    const r = await runLoad(plan(a, { workers: 2, durationMs: 1500 }));
    expect(r.conditions.workers).toBe(2);
    expect(r.accepted).toBe(a.truth.ok);
    expect(r.errors.vote_failed).toBe(a.truth.failed);
    expect(r.series.reduce((n, s) => n + s.accepted, 0)).toBe(r.accepted);
    expect(r.lost).toBe(0);
  }, 30_000);

  it('stops within 2 s on abort and marks the result partial', async () => {
    const a = await target({ vote: () => ({ delayMs: 30 }) });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 700);
    const t0 = Date.now();
    const r = await runLoad(plan(a, { durationMs: 20_000 }), { signal: ac.signal });
    expect(Date.now() - t0 - 700).toBeLessThan(2000);
    expect(r.partial).toBe(true);
    expect(r.measuredSeconds).toBeLessThan(2);
    expect(r.accepted).toBe(a.truth.ok);
  });

  it('turns an unreachable target or a wrong key into one clear line, before any load', async () => {
    const a = await target();
    const url = a.url;
    await expect(runLoad(plan(a, { key: 'nope' }))).rejects.toThrow(/^authentication failed: .* HTTP 401 \(the key was rejected\); pass the myhero-app key with --key/);
    await a.stop();
    app = undefined;
    const t0 = Date.now();
    const err = await runLoad({ ...plan(a), target: url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    // Unreachable: the run could not be judged (3), not bad input.
    expect((err as UserError).exitCode).toBe(3);
    expect((err as UserError).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((err as UserError).message).not.toContain('\n');
  });

  it('gives up on a target that accepts connections but never answers within 5 s', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const t0 = Date.now();
    const err = await runLoad({ target: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, key: 'K', model: { kind: 'closed', voters: 1 }, durationMs: 1000 }).catch((e: unknown) => e);
    silent.closeAllConnections();
    silent.close();
    expect((err as UserError).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: no answer within 3 s$/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
