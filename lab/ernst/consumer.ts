import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { TWIN } from '../../lib/catalog.ts';
import { randomUUID } from 'node:crypto';
import { BODIES, VOTE_TOPIC_FILTER, type TwinFlavour } from '../../lib/defaults.ts';
import type { Logger } from '../../lib/log.ts';
import { IDEMPOTENCY_HEADER } from '../api.ts';
import { createDataClient, votePath } from '../app/data-client.ts';
import { Router, serve, text } from '../http.ts';
import { addMetricsRoute, createMetrics } from '../metrics.ts';
import { parseVoteTopic } from '../mqtt.ts';
import { noTracing, type Tracing } from '../tracing.ts';

// myhero-ernst: takes votes off the broker and posts them to data.
//
// Never drops a vote it has taken: it subscribes with QoS 1 on a persistent
// session (fixed client id, clean=false), so votes published while it is down
// wait in the broker, and it sends the PUBACK for a vote only after data has
// acknowledged it. If it dies in between, the
// broker delivers the vote again; the vote id from the topic, sent to data as
// an idempotency key, keeps it from being counted twice. While data is
// unavailable it retries the same vote with capped exponential backoff.
// mqtt.js hands over one message at a time, as the original's paho loop did.
//
// The `original` flavour consumes as the original ernst does: a clean session
// with QoS 0 (votes published while it is away are gone, except the retained
// last one per topic), one post to data per vote with no timeout and no retry,
// then it clears the topic with an empty retained message. Killed between the
// post and the clear, the vote comes back retained when it reconnects: a duplicate.

export interface ErnstOptions {
  mqttUrl: string;
  dataUrl: string;
  dataKey: string;
  /** Fixed, so the broker keeps the session (and the votes queued in it) across restarts. */
  clientId: string;
  /** ernst has no API; this address serves only /metrics and /health. */
  metricsHost: string;
  metricsPort: number;
  /** Bound on each post to data. */
  timeoutMs: number;
  /** Longest pause between two retries of a vote data did not take. */
  retryMaxMs: number;
  flavour?: TwinFlavour;
  log: Logger;
  tracing?: Tracing;
}

export interface Ernst {
  metricsUrl: string;
  /** Graceful: finish (or hand back, unacknowledged) the vote in hand, then disconnect. */
  close(): Promise<void>;
}

const RETRY_FIRST_MS = 100;

export async function startErnst(opts: ErnstOptions): Promise<Ernst> {
  const tracing = opts.tracing ?? noTracing;
  const metrics = createMetrics('ernst');
  const processed = metrics.counter(TWIN.votesProcessed, 'Votes taken off the queue and acknowledged by data.');
  const retries = metrics.counter(TWIN.ernstRetries, 'Posts to data that failed and will be retried.');
  const connected = metrics.gauge(TWIN.ernstConnected, 'Connected and subscribed to the broker (1) or not (0).');
  processed.inc(0);
  retries.inc(0);
  connected.set(0);
  const original = opts.flavour === 'original';
  const data = createDataClient(opts.dataUrl, opts.dataKey, original ? undefined : opts.timeoutMs);
  const stopping = new AbortController();
  let inHand: Promise<void> = Promise.resolve();

  /** One post of a vote to data: true when data took it. */
  const post = async (hero: string, id: string | undefined): Promise<boolean> => {
    try {
      const answer = await tracing.span('POST /vote/:hero', 'client', undefined, (traceparent) =>
        data.call('POST', votePath(hero), undefined, {
          ...(id ? { [IDEMPOTENCY_HEADER]: id } : {}),
          ...(traceparent ? { traceparent } : {}),
        }),
      );
      if (answer.status === 200 && (answer.body as { result?: unknown } | null)?.result === '1') return true;
      opts.log.warn({ status: answer.status, hero }, 'data refused the vote');
    } catch (err) {
      opts.log.warn({ err: (err as Error).message, hero }, 'data unavailable');
    }
    return false;
  };

  /** Post one vote until data takes it (the original: once); false when ernst is stopping first (the vote stays unacknowledged). */
  const record = async (hero: string, id: string | undefined): Promise<boolean> => {
    if (original) return post(hero, id);
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      if (await post(hero, id)) return true;
      retries.inc();
      await sleep(Math.min(opts.retryMaxMs, RETRY_FIRST_MS * 2 ** attempt), undefined, { signal: stopping.signal }).catch(() => undefined);
    }
    return false;
  };

  const handle = async (topic: string, payload: Buffer): Promise<boolean> => {
    const vote = parseVoteTopic(topic);
    const hero = payload.toString('utf8');
    // The original clears a topic with an empty retained message: nothing to count.
    if (!vote || hero === '') return true;
    return tracing.span('process vote', 'consumer', vote.traceparent, async () => {
      const done = await record(hero, vote.id);
      if (done) processed.inc();
      if (!original) return done;
      // The original's queue is the retained message: clear it once the vote is posted (taken or not).
      await client.publishAsync(topic, '', { qos: 0, retain: true }).catch(() => undefined);
      return true;
    });
  };

  const client: MqttClient = original
    ? mqtt.connect(opts.mqttUrl, { clientId: `${opts.clientId}-${randomUUID().slice(0, 8)}`, clean: true, reconnectPeriod: 1000, connectTimeout: 5000 })
    : mqtt.connect(opts.mqttUrl, { clientId: opts.clientId, clean: false, reconnectPeriod: 1000, connectTimeout: 5000 });
  // mqtt.js sends the PUBACK of a QoS 1 message only once handleMessage calls back, and hands over
  // the next message only then (its `customHandleAcks` works with MQTT 5 only; Aedes speaks 3.1.1).
  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    const work = handle(packet.topic, Buffer.from(packet.payload)).then(
      (done) => {
        // Not acknowledged (ernst is stopping): the broker delivers the vote again to the next session.
        if (done) callback();
      },
      (err: unknown) => opts.log.error({ err }, 'vote handling failed'),
    );
    inHand = work;
  };
  client.on('error', (err) => opts.log.warn({ err: err.message }, 'mqtt error'));
  client.on('offline', () => opts.log.warn({ url: opts.mqttUrl }, 'mqtt broker unreachable'));
  client.on('close', () => connected.set(0));
  const subscribed = new Promise<void>((resolve) => {
    client.on('connect', () => {
      client.subscribe(VOTE_TOPIC_FILTER, { qos: original ? 0 : 1 }, (err) => {
        if (err) return opts.log.error({ err: err.message }, 'subscribe failed');
        connected.set(1);
        resolve();
      });
    });
  });
  await subscribed;

  const router = new Router().on('GET', '/health', () => text(200, BODIES.health));
  addMetricsRoute(router, metrics.registry);
  const http = await serve({ host: opts.metricsHost, port: opts.metricsPort, router, onResponse: metrics.observe });
  opts.log.info({ mqttUrl: opts.mqttUrl, dataUrl: opts.dataUrl, clientId: opts.clientId, metrics: http.url }, 'myhero-ernst subscribed');

  return {
    metricsUrl: `${http.url}/metrics`,
    async close() {
      stopping.abort();
      await inHand;
      // A stalled socket or a broker already gone must not hold the shutdown: force the
      // disconnect after a grace period, and stop waiting for its callback soon after.
      const grace = setTimeout(() => client.end(true), 2000);
      await Promise.race([client.endAsync(), new Promise((r) => setTimeout(r, 3000).unref())]);
      clearTimeout(grace);
      await http.close();
    },
  };
}
