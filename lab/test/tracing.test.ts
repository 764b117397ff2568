import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab.ts';
import { noTracing, startTracing } from '../tracing.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './fixtures/otlp.ts';

// OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, one vote in queue mode is one trace
// across app → broker (traceparent in the topic) → ernst → data (traceparent header).

// OTLP span kinds: 2 server, 3 client, 4 producer, 5 consumer.
const KIND = { server: 2, client: 3, producer: 4, consumer: 5 };

let receiver: OtlpReceiver;
let lab: Lab;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  lab = await startLab({
    mode: 'queue',
    dataPort: 0,
    appPort: 0,
    mqttPort: 0,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
});
afterAll(async () => {
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
