import { randomInt, randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../lib/log.ts';
import { originalVoteTopic, voteTopic } from '../mqtt.ts';
import type { Tracing } from '../tracing.ts';
import { votePath, type DataClient } from './data-client.ts';

// Where myhero-app sends a vote. `direct`: POST it to data and wait for data's
// answer. `queue`: publish it to the broker and answer once the broker has it.

export type FailReason = 'data_error' | 'data_timeout' | 'broker_unavailable' | 'broker_timeout' | 'broker_error';
/** `raised`: the call failed with an exception (network, broker), which the original app does not catch: it answers HTTP 500. */
export type VoteOutcome = { ok: true } | { ok: false; reason: FailReason; raised: boolean };

export interface VoteSink {
  submit(hero: string): Promise<VoteOutcome>;
  close(): Promise<void>;
}

export function directSink(data: DataClient, tracing: Tracing): VoteSink {
  return {
    async submit(hero) {
      try {
        const answer = await tracing.span('POST /vote/:hero', 'client', undefined, (traceparent) =>
          data.call('POST', votePath(hero), undefined, traceparent ? { traceparent } : {}),
        );
        const result = (answer.body as { result?: unknown } | null)?.result;
        return answer.status === 200 && result === '1' ? { ok: true } : { ok: false, reason: 'data_error', raised: false };
      } catch (err) {
        return { ok: false, reason: (err as Error).name === 'TimeoutError' ? 'data_timeout' : 'data_error', raised: true };
      }
    },
    close: async () => {},
  };
}

export interface QueueSinkOptions {
  mqttUrl: string;
  /** The `<host>` of `MyHero-Votes/<host>-<digit>`: the app's hostname, as in the original. */
  host: string;
  /** How long to wait for the broker's PUBACK before answering "vote submission failed". */
  timeoutMs: number;
  tracing: Tracing;
  log: Logger;
  onPublished: () => void;
}

/**
 * One long-lived connection (the original opened one per vote), QoS 1, and the answer waits for
 * the broker's PUBACK: "vote submitted" means the broker holds the vote.
 *
 * retain=false, unlike the original's retain=true: the original used retained messages as its
 * queue (ernst cleared each topic by publishing an empty retained message), which loses a vote
 * whenever two land on the same `<host>-<digit>` topic before ernst clears it. Here the queue is
 * ernst's persistent QoS 1 session, and a retained copy would only be delivered again to every
 * new subscription of ernst — duplicates, never a vote that would otherwise be lost.
 */
export async function queueSink(opts: QueueSinkOptions): Promise<VoteSink> {
  const client: MqttClient = mqtt.connect(opts.mqttUrl, {
    clientId: `myhero-app-${opts.host}-${process.pid}`,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
  });
  client.on('error', (err) => opts.log.warn({ err: err.message }, 'mqtt error'));
  client.on('offline', () => opts.log.warn({ url: opts.mqttUrl }, 'mqtt broker unreachable'));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (!client.connected) opts.log.warn({ url: opts.mqttUrl }, 'mqtt broker not reachable yet; votes fail until it is');

  return {
    async submit(hero) {
      // A vote taken while the broker is away would sit in this process's memory: refuse it instead.
      if (!client.connected) return { ok: false, reason: 'broker_unavailable', raised: true };
      let timer: NodeJS.Timeout | undefined;
      try {
        await opts.tracing.span('publish MyHero-Votes', 'producer', undefined, async (traceparent) => {
          const topic = voteTopic(opts.host, randomInt(10), randomUUID(), traceparent);
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error('no PUBACK in time'), { name: 'TimeoutError' })), opts.timeoutMs);
          });
          await Promise.race([client.publishAsync(topic, hero, { qos: 1, retain: false }), timeout]);
        });
        opts.onPublished();
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: (err as Error).name === 'TimeoutError' ? 'broker_timeout' : 'broker_error', raised: true };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await client.endAsync();
    },
  };
}

/**
 * The original's queue mode: a new broker connection per vote, the hero name published with
 * QoS 0 and retain=true to `MyHero-Votes/<host>-<digit>` (no vote id), and "vote submitted" once
 * the publish is written. The retained message is the queue: at most one vote per topic survives
 * while ernst is away, and a vote ernst recorded but had not cleared yet comes back when it reconnects.
 */
export function originalQueueSink(opts: QueueSinkOptions): VoteSink {
  return {
    async submit(hero) {
      let client: MqttClient | undefined;
      try {
        client = await mqtt.connectAsync(opts.mqttUrl, { clientId: `myhero-app-${randomUUID()}`, clean: true, reconnectPeriod: 0, connectTimeout: opts.timeoutMs }, false);
        await client.publishAsync(originalVoteTopic(opts.host, randomInt(10)), hero, { qos: 0, retain: true });
        opts.onPublished();
        return { ok: true };
      } catch {
        return { ok: false, reason: 'broker_unavailable', raised: true };
      } finally {
        await client?.endAsync().catch(() => undefined);
      }
    },
    close: async () => {},
  };
}
