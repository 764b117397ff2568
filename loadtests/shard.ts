import autocannon from 'autocannon';
import { KEY_HEADER } from '../lib/defaults.ts';
import {
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

/** A shard whose connections are open and waiting for the common start time. */
export interface PreparedShard {
  start(startAt: number): Promise<ShardResult>;
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
  /** Requests this connection has sent: autocannon sends requests[sent % length], in order. */
  sent: number;
  inflight?: Pending;
  /** A request whose connection autocannon replaced before telling us why (timeout follows synchronously). */
  abandoned?: Pending;
  timer?: NodeJS.Timeout;
  /** Asked to send before the start. */
  waiting: boolean;
  /** Decide when to send next (autocannon's _doRequest, replaced). */
  pace: () => void;
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
/**
 * Requests are drawn from the mix ahead of time into a sequence each connection cycles
 * through: autocannon then sends prebuilt buffers instead of building every request
 * (a per-request setupRequest costs a third of the generator's rate).
 */
const SEQUENCE_LENGTH = 200;

/** Draw the request sequence: routes by the mix, heroes by the distribution. */
export function requestSequence(spec: Pick<ShardSpec, 'seed' | 'mix' | 'heroes' | 'distribution' | 'weights'>, length = SEQUENCE_LENGTH): { route: Route; method: 'GET' | 'POST'; path: string }[] {
  const random = rng(spec.seed);
  const pickRoute = routePicker(spec.mix, random);
  const pickHero = heroPicker(spec.heroes, spec.distribution, random, spec.weights);
  return Array.from({ length }, () => {
    const route = pickRoute();
    if (route === 'vote') return { route, method: 'POST', path: `/vote/${encodeURIComponent(pickHero())}` };
    return { route, method: 'GET', path: route === 'results' ? '/v2/results' : '/options' };
  });
}

/** Open the shard's connections; nothing is sent before `start`. */
export function prepareShard(spec: ShardSpec, onInterval: (i: Interval) => void, signal?: AbortSignal): PreparedShard {
  const sequence = requestSequence(spec);
  let startAt = Infinity;
  let endAt = Infinity;
  let warmEnd = Infinity;

  const total = emptyTally();
  const measured = emptyTally();
  const histogram = latencyHistogram();
  /** Seconds not yet handed to onInterval, by index. */
  const seconds: (Interval | undefined)[] = [];
  let nextSecond = 0;
  const voters: Voter[] = [];
  let nextTicket = spec.shard;
  let sent = 0;
  let started = false;
  let running = true;
  let partial = false;
  let lastAnswerAt = 0;
  // A response's status and request, from the client's 'response' event until autocannon hands
  // over its body (verifyBody), synchronously after it.
  let answered: { p: Pending; status: number; doneAt: number } | undefined;
  // myhero answers with a handful of distinct bodies: classify each once.
  const outcomes = new Map<string, Outcome>();
  const classify = (route: Route, status: number, body: string): Outcome => {
    if (route !== 'vote') return classifyRead(status);
    if (status !== 200) return classifyVote(status, body);
    let o = outcomes.get(body);
    if (o === undefined) {
      o = classifyVote(status, body);
      if (outcomes.size < 64) outcomes.set(body, o);
    }
    return o;
  };

  const count = (t: Tally, route: Route, outcome: Outcome) => {
    t.requests += 1;
    if (route !== 'vote') {
      if (outcome !== 'accepted') t.readErrors += 1;
      return;
    }
    t.attempted += 1;
    if (outcome === 'accepted') t.accepted += 1;
    else t.errors[outcome] = (t.errors[outcome] ?? 0) + 1;
  };

  const record = (p: Pending, outcome: Outcome, doneAt: number) => {
    if (doneAt > lastAnswerAt) lastAnswerAt = doneAt;
    const t = Math.max(0, Math.floor((doneAt - startAt) / 1000));
    const sec = (seconds[t] ??= emptyInterval(t));
    count(sec, p.route, outcome);
    count(total, p.route, outcome);
    const inWindow = p.intendedAt >= warmEnd;
    if (inWindow) count(measured, p.route, outcome);
    if (p.route === 'vote') {
      const latencyMs = doneAt - p.intendedAt;
      sec.latencyBuckets[bucketIndex(latencyMs)]! += 1;
      sec.latencySumMs += latencyMs;
      if (inWindow) histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
    }
  };

  const flushSeconds = (upTo: number) => {
    for (; nextSecond < upTo; nextSecond++) {
      onInterval(seconds[nextSecond] ?? emptyInterval(nextSecond));
      seconds[nextSecond] = undefined;
    }
  };

  /** When the voter may send next and the time it was meant to, or undefined when its part of the run is over. */
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

  let resolveDone: (r: ShardResult) => void = () => {};
  let rejectDone: (e: Error) => void = () => {};
  const done = new Promise<ShardResult>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  let ticker: NodeJS.Timeout | undefined;
  let watch: NodeJS.Timeout | undefined;
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
  let abortDeadline = Infinity;
  const onAbort = () => {
    partial = true;
    running = false;
    abortDeadline = now() + ABORT_GRACE_MS;
    for (const v of voters) clearTimeout(v.timer);
    // Aborted before the start: there is nothing to wait for.
    if (!started) finish();
  };
  if (signal?.aborted) queueMicrotask(onAbort);
  signal?.addEventListener('abort', onAbort);

  const setupClient = (client: autocannon.Client) => {
    const v: Voter = { index: spec.shard + voters.length * spec.shards, sent: 0, waiting: false, pace: () => {}, lastDoneAt: 0, retryAt: 0 };
    voters.push(v);
    const internals = client as unknown as ClientInternals;
    const send = internals._doRequest.bind(client);

    const fire = (intendedAt: number) => {
      v.timer = undefined;
      if (!running) return;
      const route = sequence[v.sent % sequence.length]!.route;
      v.sent += 1;
      sent += 1;
      v.inflight = { route, intendedAt };
      send();
    };

    const pace = () => {
      if (v.inflight) {
        // autocannon asks for a request while one is in flight only after replacing the
        // connection: the old request is gone. A timeout says so synchronously after this;
        // anything else (the server closed the connection) is a reset.
        const gone = (v.abandoned = v.inflight);
        v.inflight = undefined;
        queueMicrotask(() => {
          if (v.abandoned === gone) {
            v.abandoned = undefined;
            record(gone, 'reset', now());
          }
        });
      }
      if (!running || v.timer) return;
      if (!started) {
        v.waiting = true;
        return;
      }
      const t = now();
      const next = nextSend(v, t);
      if (!next) return;
      const delay = next.at - t;
      if (delay > 0.5) v.timer = setTimeout(later, delay, next.intendedAt);
      else fire(next.intendedAt ?? t);
    };
    /** A deferred send: the open model's intended time, or a closed-model voter re-checking it is active. */
    const later = (intendedAt: number | undefined) => {
      v.timer = undefined;
      if (intendedAt !== undefined) return fire(intendedAt);
      const at = now();
      // Still inactive (ramp) or the run ended: ask again.
      if (levelAt(spec.profile, at - startAt) <= v.index || at >= endAt) return pace();
      fire(at);
    };
    internals._doRequest = v.pace = pace;

    client.on('response', (status: number) => {
      const p = v.inflight;
      v.inflight = undefined;
      if (!p) return;
      const doneAt = now();
      v.lastDoneAt = doneAt;
      answered = { p, status, doneAt };
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

  // Called by autocannon with each response body right after the client's 'response' event.
  const verifyBody = (body: unknown) => {
    const a = answered;
    answered = undefined;
    if (a) record(a.p, classify(a.p.route, a.status, typeof body === 'string' ? body : String(body)), a.doneAt);
    return true;
  };
  const instance = autocannon(
    {
      url: spec.target,
      connections: spec.connections,
      // Safety net only: the shard stops autocannon itself once the last answer is in.
      duration: Math.ceil((spec.profile.endMs + spec.timeoutMs) / 1000) + 60,
      timeout: Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
      sampleInt: 100,
      headers: { [KEY_HEADER]: spec.key },
      requests: sequence.map((r) => ({ method: r.method, path: r.path })),
      verifyBody,
      setupClient,
    },
    (err: unknown) => {
      if (err) return rejectDone(err instanceof Error ? err : new Error(String(err)));
      flushSeconds(Math.max(seconds.length, nextSecond));
      const scheduled = spec.model === 'open' && Number.isFinite(startAt) ? countArrivals(spec, endAt - startAt) : sent;
      resolveDone({
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

  return {
    start(at: number) {
      if (finishing) return done;
      startAt = at;
      endAt = at + spec.profile.endMs;
      warmEnd = at + spec.warmupMs;
      started = true;
      ticker = setInterval(() => flushSeconds(Math.floor((now() - startAt) / 1000)), 1000);
      // After the end (or an abort), finish once nothing is in flight; autocannon's own
      // request timeout bounds the wait, the deadline is a safety net.
      const deadline = endAt + spec.timeoutMs + 2000;
      watch = setInterval(() => {
        const t = now();
        if (running && t < endAt) return;
        const busy = voters.some((v) => v.inflight || v.abandoned);
        if (!busy || t > deadline || t > abortDeadline) finish();
      }, 25);
      for (const v of voters) {
        if (!v.waiting) continue;
        v.waiting = false;
        v.pace();
      }
      return done;
    },
  };
}

/** Arrivals of this shard's schedule before `untilMs`. */
function countArrivals(spec: ShardSpec, untilMs: number): number {
  let n = 0;
  for (let k = spec.shard; arrivalMs(spec.profile, k) < untilMs; k += spec.shards) n++;
  return n;
}
