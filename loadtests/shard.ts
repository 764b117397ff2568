import autocannon from 'autocannon';
import { KEY_HEADER } from '../lib/defaults.ts';
import {
  addTally,
  bucketIndex,
  classifyError,
  classifyRead,
  classifyVote,
  emptyInterval,
  emptyTally,
  encodeHistogram,
  latencyHistogram,
  type Interval,
  type Outcome,
  type Tally,
} from './accounting.ts';
import { heroPicker, rng, routePicker, type HeroDistribution, type MixWeights, type Route } from './mix.ts';
import { arrivalMs, levelAt, type Profile } from './schedule.ts';

// One thread's share of a run: autocannon drives the HTTP connections, and this
// file decides *when* each connection sends (the closed or open model) and
// *what counts* (every answer classified by its body, latency from the
// intended send time). The engine runs one shard in-thread or one per worker.

/** Everything a shard needs; plain data so it can cross to a worker thread. */
export interface ShardSpec {
  target: string;
  key: string;
  heroes: string[];
  distribution: HeroDistribution;
  weights?: Record<string, number>;
  mix: MixWeights;
  /** closed: the profile's level is the number of active voters; open: arrivals per second. */
  model: 'closed' | 'open';
  profile: Profile;
  thinkMs: number;
  /** This shard's index and the number of shards: voters and arrivals are dealt round-robin. */
  shard: number;
  shards: number;
  /** HTTP connections this shard opens. */
  connections: number;
  warmupMs: number;
  timeoutMs: number;
  seed: number;
}

export interface ShardResult {
  /** The whole run, warm-up included (what reconciliation compares with). */
  total: Tally;
  /** Requests intended after the warm-up. */
  measured: Tally;
  /** Encoded HDR histogram (µs) of measured vote latencies. */
  latency: string;
  /** Open model: arrivals due before the end that no free connection could send. */
  dropped: number;
  /** When the last answer (or failure) came: the end of the measured window, graceful tail included. */
  lastAnswerAt: number;
  partial: boolean;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across worker threads. */
export const now = () => performance.timeOrigin + performance.now();

interface Pending {
  route: Route;
  intendedAt: number;
}

interface Voter {
  /** Global voter index (closed model): active while the profile's level exceeds it. */
  index: number;
  inflight?: Pending;
  /** A request whose connection autocannon replaced before telling us why (timeout follows synchronously). */
  abandoned?: Pending;
  timer?: NodeJS.Timeout;
  lastDoneAt: number;
  retryAt: number;
}

/** The parts of autocannon's client this file relies on beyond its typed API (autocannon@8 lib/httpClient.js). */
interface ClientInternals {
  /** Sends the next request; called by autocannon on connect and after every response. We pace it. */
  _doRequest: () => void;
}

/** After a failed connection a voter waits this long before trying again, as a person would. */
const RETRY_AFTER_MS = 100;
/** How often an idle voter checks whether a ramp has made it active. */
const RAMP_POLL_MS = 50;
/** On abort, how long in-flight requests get to finish before they count as aborted. */
const ABORT_GRACE_MS = 1000;

export function runShard(spec: ShardSpec, startAt: number, onInterval: (i: Interval) => void, signal?: AbortSignal): Promise<ShardResult> {
  const random = rng(spec.seed);
  const pickRoute = routePicker(spec.mix, random);
  const pickHero = heroPicker(spec.heroes, spec.distribution, random, spec.weights);
  const votePaths = new Map(spec.heroes.map((h) => [h, `/vote/${encodeURIComponent(h)}`]));
  const endAt = startAt + spec.profile.endMs;
  const warmEnd = startAt + spec.warmupMs;

  const total = emptyTally();
  const measured = emptyTally();
  const histogram = latencyHistogram();
  const seconds = new Map<number, Interval>();
  let nextSecond = 0;
  const voters: Voter[] = [];
  let nextTicket = spec.shard;
  let sent = 0;
  let running = true;
  let partial = false;
  let lastAnswerAt = 0;
  // Set synchronously by setupRequest while autocannon builds the request that is about to be sent.
  let built: Route | undefined;
  // Set synchronously by onResponse just before autocannon emits the client's 'response'.
  let lastBody = '';

  const record = (p: Pending, outcome: Outcome, doneAt: number) => {
    lastAnswerAt = Math.max(lastAnswerAt, doneAt);
    const t = Math.max(0, Math.floor((doneAt - startAt) / 1000));
    const sec = seconds.get(t) ?? seconds.set(t, emptyInterval(t)).get(t)!;
    const one: Tally = emptyTally();
    one.requests = 1;
    if (p.route === 'vote') {
      one.attempted = 1;
      if (outcome === 'accepted') one.accepted = 1;
      else one.errors[outcome] = 1;
      const latencyMs = doneAt - p.intendedAt;
      sec.latencyBuckets[bucketIndex(latencyMs)]! += 1;
      sec.latencySumMs += latencyMs;
      if (p.intendedAt >= warmEnd) histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
    } else if (outcome !== 'accepted') {
      one.readErrors = 1;
    }
    addTally(sec, one);
    addTally(total, one);
    if (p.intendedAt >= warmEnd) addTally(measured, one);
  };

  const flushSeconds = (upTo: number) => {
    for (; nextSecond < upTo; nextSecond++) {
      onInterval(seconds.get(nextSecond) ?? emptyInterval(nextSecond));
      seconds.delete(nextSecond);
    }
  };

  /** When the voter may send next, or undefined when its part of the run is over. */
  const nextSend = (v: Voter, at: number): { at: number; intendedAt?: number } | undefined => {
    // Nothing is sent after the end: arrivals still waiting for a connection then are dropped.
    if (at >= endAt) return undefined;
    if (spec.model === 'open') {
      const intended = startAt + arrivalMs(spec.profile, nextTicket);
      if (intended >= endAt) return undefined;
      nextTicket += spec.shards;
      return { at: Math.max(intended, at), intendedAt: intended };
    }
    const earliest = Math.max(at, v.lastDoneAt + spec.thinkMs, v.retryAt);
    if (earliest >= endAt) return undefined;
    if (levelAt(spec.profile, earliest - startAt) > v.index) return { at: earliest };
    return { at: earliest + RAMP_POLL_MS };
  };

  return new Promise<ShardResult>((resolve, reject) => {
    let finishing = false;
    const finish = () => {
      if (finishing) return;
      finishing = true;
      running = false;
      clearInterval(ticker);
      clearInterval(watch);
      for (const v of voters) clearTimeout(v.timer);
      signal?.removeEventListener('abort', onAbort);
      for (const v of voters) {
        for (const p of [v.abandoned, v.inflight]) if (p) record(p, 'aborted', now());
        v.abandoned = v.inflight = undefined;
      }
      instance.stop();
    };

    const ticker = setInterval(() => flushSeconds(Math.floor((now() - startAt) / 1000)), 1000);
    // After the end (or an abort), finish once nothing is in flight; autocannon's own
    // request timeout bounds the wait, the deadline is a safety net.
    const deadline = endAt + spec.timeoutMs + 2000;
    let abortDeadline = Infinity;
    const watch = setInterval(() => {
      const t = now();
      if (running && t < endAt) return;
      const busy = voters.some((v) => v.inflight || v.abandoned);
      if (!busy || t > deadline || t > abortDeadline) finish();
    }, 25);
    const onAbort = () => {
      partial = true;
      running = false;
      abortDeadline = now() + ABORT_GRACE_MS;
      for (const v of voters) clearTimeout(v.timer);
    };
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort);

    const setupClient = (client: autocannon.Client) => {
      const v: Voter = { index: spec.shard + voters.length * spec.shards, lastDoneAt: 0, retryAt: 0 };
      voters.push(v);
      const internals = client as unknown as ClientInternals;
      const send = internals._doRequest.bind(client);
      // autocannon builds a client's first request in its constructor, before this hook runs.
      let firstRoute = built;

      const fire = (intendedAt: number) => {
        v.timer = undefined;
        if (!running) return;
        if (v.inflight) {
          // autocannon reconnected and resends: the old request is gone. A timeout says so
          // synchronously after this; anything else (the server closed the connection) is a reset.
          const gone = (v.abandoned = v.inflight);
          queueMicrotask(() => {
            if (v.abandoned === gone) {
              v.abandoned = undefined;
              record(gone, 'reset', now());
            }
          });
        }
        built = undefined;
        send();
        sent += 1;
        v.inflight = { route: built ?? firstRoute ?? 'vote', intendedAt };
        firstRoute = undefined;
      };

      internals._doRequest = () => {
        if (!running || v.timer) return;
        const t = now();
        const next = nextSend(v, t);
        if (!next) return;
        const intended = next.intendedAt;
        const delay = next.at - t;
        const go = () => {
          if (spec.model === 'closed') {
            const at = now();
            // Still inactive (ramp) or the run ended: ask again.
            if (levelAt(spec.profile, at - startAt) <= v.index || at >= endAt) return internals._doRequest();
            return fire(at);
          }
          fire(intended!);
        };
        if (delay > 0.5) v.timer = setTimeout(() => { v.timer = undefined; go(); }, delay);
        else go();
      };

      client.on('response', (status: number) => {
        const p = v.inflight;
        v.inflight = undefined;
        if (!p) return;
        const doneAt = now();
        v.lastDoneAt = doneAt;
        record(p, p.route === 'vote' ? classifyVote(status, lastBody) : classifyRead(status), doneAt);
      });
      // Typed in @types/autocannon only for 'response'; autocannon@8 emits these too.
      const events = client as unknown as NodeJS.EventEmitter;
      events.on('timeout', () => {
        const p = v.abandoned ?? v.inflight;
        if (v.abandoned) v.abandoned = undefined;
        else v.inflight = undefined;
        if (p) record(p, 'timeout', now());
      });
      events.on('connError', (err: unknown) => {
        const p = v.inflight;
        v.inflight = undefined;
        const t = now();
        v.retryAt = t + RETRY_AFTER_MS;
        if (p) record(p, classifyError(err), t);
      });
    };

    const instance = autocannon(
      {
        url: spec.target,
        connections: spec.connections,
        // Safety net only: the shard stops autocannon itself once the last answer is in.
        duration: Math.ceil((endAt - now() + spec.timeoutMs) / 1000) + 10,
        timeout: Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
        sampleInt: 100,
        headers: { [KEY_HEADER]: spec.key },
        requests: [
          {
            setupRequest: (req: autocannon.Request) => {
              const route = pickRoute();
              built = route;
              if (route === 'vote') return { ...req, method: 'POST', path: votePaths.get(pickHero())! };
              return { ...req, method: 'GET', path: route === 'results' ? '/v2/results' : '/options' };
            },
            onResponse: (_status: number, body: string) => {
              lastBody = body;
            },
          },
        ],
        setupClient,
      },
      (err: unknown) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        flushSeconds(Math.max(...seconds.keys(), nextSecond - 1) + 1);
        const scheduled = spec.model === 'open' ? countArrivals(spec, endAt - startAt) : sent;
        resolve({
          total,
          measured,
          latency: encodeHistogram(histogram),
          dropped: partial ? 0 : Math.max(0, scheduled - sent),
          lastAnswerAt,
          partial,
        });
        histogram.destroy();
      },
    );
  });
}

/** Arrivals of this shard's schedule before `untilMs`. */
function countArrivals(spec: ShardSpec, untilMs: number): number {
  let n = 0;
  for (let k = spec.shard; arrivalMs(spec.profile, k) < untilMs; k += spec.shards) n++;
  return n;
}
