import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../lib/errors.ts';
import { prometheusApi } from '../../lib/prometheus-api.ts';
import { parseComparison } from '../compare.ts';
import type { ProbeOutcome } from './kubernetes.ts';

// Prometheus probes (LitmusChaos promProbe): an instant query through the HTTP
// API, compared with a threshold, optionally polled until it holds within a
// deadline ("the alert fired within 2m").

export interface PrometheusProbeSpec {
  /** Prometheus base URL, e.g. http://prometheus.monitoring:9090 */
  url: string;
  query: string;
  /** Threshold on the first sample's value; without it the probe passes when the result is non-empty. */
  expect?: string;
  /** Keep polling until it holds, up to this long (ms). */
  withinMs?: number;
}

export function describePrometheusProbe(s: PrometheusProbeSpec): string {
  const what = s.expect ? `value ${parseComparison(s.expect, 'expect').text}` : 'non-empty';
  return `prometheus ${s.query} ${what}${s.withinMs ? ` within ${Math.round(s.withinMs / 1000)} s` : ''}`;
}

/** Query timeout: a probe polls, so one slow answer must not eat its whole deadline. */
const QUERY_TIMEOUT_MS = 10_000;

/**
 * The value of each series (its latest sample, for a range vector). A query Prometheus
 * refuses throws with Prometheus's reason; prometheusApi throws naming the URL when
 * Prometheus is unreachable or answers something that is not its API.
 */
async function query(url: string, q: string, signal: AbortSignal): Promise<number[]> {
  const answer = await prometheusApi(url, { signal, timeoutMs: QUERY_TIMEOUT_MS }).instant(q, Date.now() / 1000);
  if (answer.error) throw new Error(`prometheus at ${url}: query failed: ${answer.error}`);
  return answer.result.map((s) => Number(s.values.at(-1)?.[1]));
}

export async function probePrometheus(s: PrometheusProbeSpec, opts: { signal: AbortSignal; pollMs: number }): Promise<ProbeOutcome> {
  const c = s.expect ? parseComparison(s.expect, 'expect') : undefined;
  const start = Date.now();
  let last: ProbeOutcome = { ok: false, value: 'no answer', reason: 'not queried' };
  for (;;) {
    try {
      const values = await query(s.url, s.query, opts.signal);
      const v = values[0];
      const ok = c ? v !== undefined && c.test(v) : values.length > 0;
      last = { ok, value: v ?? 'empty', reason: `${s.query} = ${values.length ? values.join(', ') : 'empty'}${c ? ` (want ${c.text})` : ' (want non-empty)'}` };
    } catch (err) {
      opts.signal.throwIfAborted();
      last = { ok: false, value: 'error', reason: describeError(err) };
    }
    const elapsed = Date.now() - start;
    if (last.ok || !s.withinMs || elapsed >= s.withinMs) {
      return last.ok || !s.withinMs ? last : { ...last, reason: `${last.reason}; not within ${Math.round(s.withinMs / 1000)} s` };
    }
    await sleep(Math.min(opts.pollMs, s.withinMs - elapsed), undefined, { signal: opts.signal });
  }
}
