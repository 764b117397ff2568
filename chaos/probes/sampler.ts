import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../lib/errors.ts';

// A steady trickle of GETs to one URL on a fixed schedule (open model: each request
// goes out at its time whatever the earlier ones do), for measuring a route the vote
// load does not touch, such as the UI page behind a delay. A probe, not a load: a few
// requests per second. A request is placed and timed by when it really went out, not
// by its due time: when this process is starved its timers run late, and a request
// due inside a fault's window may leave after the fault was removed.

export interface SampledRequest {
  /** When it went out (epoch ms): its due time, or later when this process ran late. */
  sentAt: number;
  /** From sentAt to the end of the answer. */
  latencyMs: number;
  status?: number;
  /** `timeout`, or the transport error. */
  error?: string;
}

export interface Sampler {
  readonly records: readonly SampledRequest[];
  /** Stop sending and wait for the requests in flight. */
  stop(): Promise<void>;
}

export function startSampler(url: string, opts: { ratePerSec: number; timeoutMs: number; signal: AbortSignal }): Sampler {
  const records: SampledRequest[] = [];
  const stopper = new AbortController();
  const signal = AbortSignal.any([opts.signal, stopper.signal]);
  const inFlight = new Set<Promise<void>>();
  const once = async () => {
    const sentAt = Date.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) });
      await res.arrayBuffer();
      records.push({ sentAt, latencyMs: Date.now() - sentAt, status: res.status });
    } catch (err) {
      if (opts.signal.aborted) return;
      const timedOut = (err as Error).name === 'TimeoutError';
      records.push({ sentAt, latencyMs: Date.now() - sentAt, error: timedOut ? 'timeout' : describeError(err) });
    }
  };
  const start = Date.now();
  const loop = (async () => {
    for (let i = 0; !signal.aborted; i++) {
      const due = start + (i * 1000) / opts.ratePerSec;
      await sleep(Math.max(0, due - Date.now()), undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
      const p = once().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  })();
  return {
    records,
    async stop() {
      stopper.abort();
      await loop;
      await Promise.all([...inFlight]);
    },
  };
}
