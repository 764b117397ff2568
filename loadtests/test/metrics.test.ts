import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LOADTEST } from '../../lib/catalog.ts';
import { EXIT, UserError } from '../../lib/errors.ts';
import { freePort } from '../../lib/net.ts';
import { promtoolBinary } from '../../lib/promstack.ts';
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
    const line = (re: string) => text.split('\n').find((l) => new RegExp(re).test(l));
    expect(line(`^${LOADTEST.votesAttempted}\\{mode="queue"\\} 200$`)).toBeDefined();
    expect(line(`^${LOADTEST.votesAccepted}\\{mode="direct"\\} 90$`)).toBeDefined();
    expect(line(`^${LOADTEST.errors}\\{mode="queue",class="vote_failed"\\} 14$`)).toBeDefined();
    expect(line(`^${LOADTEST.errors}\\{mode="queue",class="read"\\} 2$`)).toBeDefined();
    expect(line(`^${LOADTEST.requests}\\{mode="queue"\\} 220$`)).toBeDefined();
    expect(line(`^${LOADTEST.voters}\\{mode="queue"\\} 25$`)).toBeDefined();
    expect(line(`^${LOADTEST.backlog}\\{mode="queue"\\} 40$`)).toBeDefined();
    // Cumulative buckets: 3 ms ≤ 5 ms, 300 ms ≤ 0.5 s, 60 s only in +Inf.
    expect(line(`^${LOADTEST.latency}_bucket\\{mode="queue",le="0.005"\\} 120$`)).toBeDefined();
    expect(line(`^${LOADTEST.latency}_bucket\\{mode="queue",le="0.5"\\} 198$`)).toBeDefined();
    expect(line(`^${LOADTEST.latency}_bucket\\{mode="queue",le="\\+Inf"\\} 200$`)).toBeDefined();
    expect(line(`^${LOADTEST.latency}_count\\{mode="queue"\\} 200$`)).toBeDefined();
    expect(Number(line(`^${LOADTEST.latency}_sum\\{mode="queue"\\}`)!.split(' ')[1])).toBeCloseTo(2 * (0.18 + 11.7 + 60), 5);
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
