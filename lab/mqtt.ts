import { VOTE_TOPIC_PREFIX } from '../lib/defaults.ts';
import { urlHost } from '../lib/net.ts';

// The vote topic shared by the app (publisher) and ernst (consumer).
//
// The original publishes the hero name to `MyHero-Votes/<host>-<digit>`. The
// twin keeps that topic and payload and appends one level with the vote's id
// (and, when tracing is on, one with the W3C traceparent):
//   MyHero-Votes/<host>-<digit>/<vote id>[/<traceparent>]
// Why the topic and not MQTT v5 user properties: the embedded Aedes broker
// speaks MQTT 3.1.1 only, and the topic is the one piece of metadata 3.1.1
// carries. The id lets data ignore a vote redelivered after ernst died between
// data's acknowledgement and its PUBACK. `MyHero-Votes/#` matches both forms,
// so an original ernst still consumes the twin's votes and vice versa (a vote
// without an id is simply processed at least once).

export interface VoteTopic {
  /** `<host>-<digit>`, as the original names its topics. */
  source: string;
  id?: string;
  traceparent?: string;
}

/** Topic levels must not contain the MQTT separators or wildcards. */
const levelSafe = (s: string) => s.replace(/[/+#\u0000]/g, '_');

export function voteTopic(host: string, digit: number, id: string, traceparent?: string): string {
  const levels = [VOTE_TOPIC_PREFIX, `${levelSafe(host)}-${digit}`, levelSafe(id)];
  if (traceparent) levels.push(levelSafe(traceparent));
  return levels.join('/');
}

/** The original's topic: `MyHero-Votes/<host>-<digit>`, no vote id. */
export const originalVoteTopic = (host: string, digit: number): string => `${VOTE_TOPIC_PREFIX}/${levelSafe(host)}-${digit}`;

export function parseVoteTopic(topic: string): VoteTopic | undefined {
  const [prefix, source, id, traceparent] = topic.split('/');
  if (prefix !== VOTE_TOPIC_PREFIX || !source) return undefined;
  return { source, id: id || undefined, traceparent: traceparent || undefined };
}

/** The broker URL from `--mqtt-url`, else `myhero_mqtt_host` / `myhero_mqtt_port` as the original reads them. */
export function mqttUrlOf(url: string, host: string, port: number): string {
  return url || `mqtt://${urlHost(host)}:${port}`;
}
