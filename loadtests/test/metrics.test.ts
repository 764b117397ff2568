import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LOADTEST } from '../../lib/catalog.ts';
import { EXIT, UserError } from '../../lib/errors.ts';
import { freePort } from '../../lib/net.ts';
import { promtoolBinary } from '../../lib/promstack.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { bucketIndex, emptyInterval } from '../accounting.ts';
import type { IntervalSample } from '../engine.ts';
import { startLiveMetrics, type LiveMetrics } from '../metrics.ts';

let live: LiveMetrics | undefined;
afterEach(async () => {
  await live?.close();
  live = undefined;
});

const sample = (t: number): IntervalSample => {
  const s: IntervalSample = { ...emptyInterval(t), level: 25, requests: 110, attempted: 100, accepted: 90, errors: { vote_failed: 7, http_503: 3 }, readErrors: 1, backlog: 40 };
  s.latencyBuckets[bucketIndex(3)] = 60;
  s.latencyBuckets[bucketIndex(300)] = 39;
  s.latencyBuckets[bucketIndex(60_000)] = 1;
  s.latencySumMs = 60 * 3 + 39 * 300 + 60_000;
  return s;
};

describe('live metrics', () => {
  it('serves the catalogue names with per-mode counts that promtool accepts', async () => {
    live = await startLiveMetrics('127.0.0.1', await freePort());
    live.observe('queue', sample(0));
    live.observe('queue', sample(1));
    live.observe('direct', sample(0));
    const text = await (await fetch(live.url)).text();
    const exp = parseExposition(text);
    const queue = (name: string, labels: Record<string, string> = {}) => valueOf(exp, name, { mode: 'queue', ...labels });
    expect(queue(LOADTEST.votesAttempted)).toBe(200);
    expect(valueOf(exp, LOADTEST.votesAccepted, { mode: 'direct' })).toBe(90);
    expect(queue(LOADTEST.errors, { class: 'vote_failed' })).toBe(14);
    expect(queue(LOADTEST.errors, { class: 'read' })).toBe(2);
    expect(queue(LOADTEST.requests)).toBe(220);
    expect(queue(LOADTEST.voters)).toBe(25);
    expect(queue(LOADTEST.backlog)).toBe(40);
    // Cumulative buckets: 3 ms ≤ 5 ms, 300 ms ≤ 0.5 s, 60 s only in +Inf.
    expect(queue(`${LOADTEST.latency}_bucket`, { le: '0.005' })).toBe(120);
    expect(queue(`${LOADTEST.latency}_bucket`, { le: '0.5' })).toBe(198);
    expect(queue(`${LOADTEST.latency}_bucket`, { le: '+Inf' })).toBe(200);
    expect(queue(`${LOADTEST.latency}_count`)).toBe(200);
    expect(queue(`${LOADTEST.latency}_sum`)).toBeCloseTo(2 * (0.18 + 11.7 + 60), 5);
    const check = spawnSync(promtoolBinary(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });

  it('reports a port in use as one line, and serves nothing on port 0', async () => {
    live = await startLiveMetrics('127.0.0.1', await freePort());
    const port = Number(new URL(live.url).port);
    const err = await startLiveMetrics('127.0.0.1', port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    // Nothing could run: exit 3, as every port already taken.
    expect((err as UserError).exitCode).toBe(EXIT.unjudged);
    expect((err as UserError).message).toBe(`port ${port} on 127.0.0.1 is already in use (wanted for the live metrics of the load test; pass another --metrics-port, or 0 for none)`);
    const off = await startLiveMetrics('127.0.0.1', 0);
    expect(off.url).toBe('');
    off.observe('run', sample(0));
    await off.close();
  });
});
