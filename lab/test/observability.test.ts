import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { startLab, type Lab } from '../lab.ts';
import { startPrometheus, type RunningPrometheus } from '../../lib/promstack.ts';
import { twinScrapeConfig } from '../scrape.ts';
import { noTracing, startTracing } from '../tracing.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './fixtures/otlp.ts';
import { castVotes, recorded, waitForRecorded } from './fixtures/votes.ts';

// The twin in queue mode as its operators see it. Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set,
// one vote is one trace across app → broker (traceparent in the topic) → ernst → data
// (traceparent header). Metrics: the real Prometheus scrapes every service; RED per route
// template, and the queue backlog as published − processed in PromQL.

// OTLP span kinds: 2 server, 3 client, 4 producer, 5 consumer.
const KIND = { server: 2, client: 3, producer: 4, consumer: 5 };

let receiver: OtlpReceiver;
let lab: Lab;
let prom: RunningPrometheus;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  lab = await startLab({
    mode: 'queue',
    dataPort: 0,
    appPort: 0,
    mqttPort: 0,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
  prom = await startPrometheus({ config: twinScrapeConfig(lab.metricsTargets, '1s') });
});
afterAll(async () => {
  await prom?.stop();
  await lab?.stop();
  await receiver?.stop();
});

describe('tracing', () => {
  it('is off, with nothing loaded, when OTEL_EXPORTER_OTLP_ENDPOINT is unset', async () => {
    expect(await startTracing('app', {})).toBe(noTracing);
  });

  it('one vote is one trace covering app, ernst and data, parent by parent', async () => {
    const res = await fetch(`${lab.appUrl}/vote/Deadpool`, { method: 'POST', headers: { key: 'DevApp' } });
    expect(await res.json()).toEqual({ result: 'vote submitted' });

    let trace: ReceivedSpan[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const root = receiver.spans.find((s) => s.service === 'myhero-app' && s.name === 'POST /vote/:hero' && s.kind === KIND.server);
      trace = root ? receiver.spans.filter((s) => s.traceId === root.traceId) : [];
      // app: server + producer; ernst: consumer + client; data: server.
      if (trace.length >= 5) break;
      await sleep(100);
    }
    const one = (service: string, kind: number) => {
      const found = trace.filter((s) => s.service === service && s.kind === kind);
      expect(found, `${service} kind ${kind} in ${JSON.stringify(trace)}`).toHaveLength(1);
      return found[0]!;
    };
    const appServer = one('myhero-app', KIND.server);
    const publish = one('myhero-app', KIND.producer);
    const consume = one('myhero-ernst', KIND.consumer);
    const post = one('myhero-ernst', KIND.client);
    const dataServer = one('myhero-data', KIND.server);
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['myhero-app', 'myhero-ernst', 'myhero-data']));
    expect(appServer.parentSpanId).toBe('');
    expect(publish.parentSpanId).toBe(appServer.spanId);
    expect(consume.parentSpanId).toBe(publish.spanId);
    expect(post.parentSpanId).toBe(consume.spanId);
    expect(dataServer.parentSpanId).toBe(post.spanId);
    expect(dataServer.name).toBe('POST /vote/:hero');
  });
});

describe('metrics under a real Prometheus', () => {
  it('every service is scraped, and the backlog drains to zero after N votes', async () => {
    await prom.waitFor('sum(up)', (s) => s[0]?.value === 3, 20_000);
    // Votes of earlier tests, from data itself (a scrape may predate them).
    const before = await recorded(lab.dataUrl);
    expect(await castVotes(lab.appUrl, 60)).toBe(60);
    const total = before + 60;
    await waitForRecorded(lab.dataUrl, total);
    await prom.waitFor(`sum(${TWIN.votesPublished})`, (s) => s[0]?.value === total, 20_000);
    await prom.waitFor(`sum(${TWIN.votesPublished}) - sum(${TWIN.votesProcessed})`, (s) => s[0]?.value === 0, 20_000);
    await prom.waitFor(`sum(${TWIN.votesRecorded})`, (s) => s[0]?.value === total, 20_000);
    const routes = await prom.query(`sum by (service, route) (${TWIN.httpRequests}{route="/vote/:hero"})`);
    expect(routes.map((s) => [s.metric.service, s.value]).sort()).toEqual([
      ['app', total],
      ['data', total],
    ]);
    const mode = await prom.query(`${TWIN.appMode} == 1`);
    expect(mode.map((s) => s.metric.mode)).toEqual(['queue']);
  });
});
