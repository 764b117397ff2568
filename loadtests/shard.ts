import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { KEY_HEADER } from '../lib/defaults.ts';
import type { Interval } from './accounting.ts';
import { openConnections, type Connection } from './http-client.ts';
import { heroPicker, rng, routePicker, type HeroDistribution, type MixWeights, type Route } from './mix.ts';
import { pacerFor, type Next, type Pacer } from './pacers/index.ts';
import type { Profile } from './schedule.ts';
import { ShardTally, type TallyResult, type TallyWindow } from './tally.ts';
import { classifyRead, classifyVote, type Outcome } from './votes.ts';

// One thread's share of a run: the HTTP connections (http-client.ts), the pacer
// of the load model (pacers/), and the tally (tally.ts), wired together. The
// engine runs one shard in-thread or one per worker thread.

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
  /** Extra slices of the run (by intended time) counted on their own, e.g. fixed-rate steps. */
  windows?: TallyWindow[];
  timeoutMs: number;
  seed: number;
}

export interface ShardResult extends TallyResult {
  /** Open model: arrivals due before the end that no free connection could send. */
  dropped: number;
  /**
   * Share of the sending period (start to the planned end) this thread's event loop was busy
   * rather than waiting for I/O or timers (0–1). Near 1 the generator itself was the limit.
   */
  busy: number;
  /** The longest the target held a request without answering anything (ms): a stall, not a steady pace. */
  silenceMs: number;
  partial: boolean;
}

/** A shard whose connections are open and waiting for the common start time. */
export interface PreparedShard {
  /** Resolves once every connection is open or has failed to connect (at most CONNECT_WAIT_MS). */
  connected: Promise<void>;
  start(startAt: number): Promise<ShardResult>;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across worker threads. */
export const now = () => performance.timeOrigin + performance.now();

/** On abort, how long in-flight requests get to finish before they count as aborted. */
const ABORT_GRACE_MS = 1000;
/**
 * How long the start waits for the connections to open: opening hundreds at the start of the
 * load would make the first arrivals late and count the setup as the generator's load.
 */
const CONNECT_WAIT_MS = 3000;
/**
 * Requests are drawn from the mix ahead of time into a sequence each connection cycles
 * through: the client then sends prebuilt buffers instead of building every request
 * (a per-request setupRequest costs a third of the generator's rate).
 */
const SEQUENCE_LENGTH = 200;

export interface SequencedRequest {
  route: Route;
  method: 'GET' | 'POST';
  path: string;
  hero?: string;
}

/** Draw the request sequence: routes by the mix, heroes by the distribution. */
export function requestSequence(spec: Pick<ShardSpec, 'seed' | 'mix' | 'heroes' | 'distribution' | 'weights'>, length = SEQUENCE_LENGTH): SequencedRequest[] {
  const random = rng(spec.seed);
  const pickRoute = routePicker(spec.mix, random);
  const pickHero = heroPicker(spec.heroes, spec.distribution, random, spec.weights);
  return Array.from({ length }, () => {
    const route = pickRoute();
    if (route !== 'vote') return { route, method: 'GET', path: route === 'results' ? '/v2/results' : '/options' };
    const hero = pickHero();
    return { route, method: 'POST', path: `/vote/${encodeURIComponent(hero)}`, hero };
  });
}

/** Classify an answer; myhero answers with a handful of distinct vote bodies, so each is parsed once. */
function classifier(): (route: Route, status: number, body: string) => Outcome {
  const seen = new Map<string, Outcome>();
  return (route, status, body) => {
    if (route !== 'vote') return classifyRead(status);
    if (status !== 200) return classifyVote(status, body);
    let o = seen.get(body);
    if (o === undefined) {
      o = classifyVote(status, body);
      if (seen.size < 64) seen.set(body, o);
    }
    return o;
  };
}

/** Open the shard's connections; nothing is sent before `start`. */
export function prepareShard(spec: ShardSpec, onInterval: (i: Interval) => void, signal?: AbortSignal): PreparedShard {
  const sequence = requestSequence(spec);
  const classify = classifier();
  let tally: ShardTally | undefined;
  let pacer: Pacer | undefined;
  let started = false;
  let running = true;
  let partial = false;
  const idleBeforeStart = new Set<Connection>();
  /** Connections that are open, or could not connect: the start waits for all of them (a refusing target is the run's to count). */
  const settledBeforeStart = new Set<Connection>();
  let allConnected: () => void = () => {};
  const settled = (c: Connection) => {
    settledBeforeStart.add(c);
    if (settledBeforeStart.size >= spec.connections) allConnected();
  };
  const connected = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, CONNECT_WAIT_MS);
    allConnected = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const timers: (NodeJS.Timeout | undefined)[] = [];
  const inflight: ({ request: SequencedRequest; intendedAt: number; sentAt: number } | undefined)[] = [];
  let lastDoneAt = 0;
  let silenceMs = 0;

  const send = (c: Connection, intendedAt: number) => {
    inflight[c.index] = { request: sequence[c.next]!, intendedAt, sentAt: now() };
    c.send();
  };
  /** A connection is free: ask the pacer when it sends next. */
  const schedule = (c: Connection) => {
    if (!running || timers[c.index] || c.busy) return;
    if (!started) {
      idleBeforeStart.add(c);
      settled(c);
      return;
    }
    const t = now();
    const next = pacer!.next(c.index, t);
    if (!next) return;
    if (next.at - t > 0.5) timers[c.index] = setTimeout(onTimer, next.at - t, c, next);
    else send(c, 'intendedAt' in next ? next.intendedAt : t);
  };
  const onTimer = (c: Connection, next: NonNullable<Next>) => {
    timers[c.index] = undefined;
    if (!running) return;
    const t = now();
    // A timer that fires late is the load machine's lag, not the target's.
    tally!.sendLate(t - next.at);
    if ('recheck' in next) schedule(c);
    else send(c, next.intendedAt);
  };
  const finished = (c: Connection, outcome: Outcome) => {
    const p = inflight[c.index];
    inflight[c.index] = undefined;
    if (!p || !tally) return;
    const doneAt = now();
    if (outcome !== 'aborted') {
      // Nothing came back from the target since the later of the last answer and this request's send.
      silenceMs = Math.max(silenceMs, doneAt - Math.max(lastDoneAt, p.sentAt));
      lastDoneAt = doneAt;
    }
    tally.record(p.request.route, p.request.hero, p.intendedAt, doneAt, outcome);
    pacer?.finished(c.index, doneAt, outcome === 'refused' || outcome === 'reset');
  };

  const pool = openConnections(
    {
      url: spec.target,
      headers: { [KEY_HEADER]: spec.key },
      requests: sequence,
      connections: spec.connections,
      timeoutMs: spec.timeoutMs,
      // Safety net only: the shard closes the pool itself once the last answer is in.
      maxDurationMs: spec.profile.endMs + spec.timeoutMs + 60_000,
    },
    {
      idle: schedule,
      answered: (c, status, body) => finished(c, classify(inflight[c.index]?.request.route ?? 'vote', status, body)),
      failed: finished,
      reconnected: () => tally?.reconnect(now()),
      connectFailed: (c) => {
        if (!started) settled(c);
      },
    },
  );

  let resolveDone: (r: ShardResult) => void = () => {};
  let rejectDone: (e: Error) => void = () => {};
  const done = new Promise<ShardResult>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  pool.done.catch(rejectDone);
  let ticker: NodeJS.Timeout | undefined;
  let watch: NodeJS.Timeout | undefined;
  let finishing = false;
  let abortDeadline = Infinity;
  // Event-loop utilization over the sending period: this thread's own busy share.
  let eluAtStart: EventLoopUtilization | undefined;
  let busy: number | undefined;
  const sendingEnded = () => {
    if (busy === undefined && eluAtStart) busy = Math.round(performance.eventLoopUtilization(eluAtStart).utilization * 1000) / 1000;
  };

  const finish = async () => {
    if (finishing) return;
    finishing = true;
    running = false;
    clearInterval(ticker);
    clearInterval(watch);
    timers.forEach((t) => clearTimeout(t));
    signal?.removeEventListener('abort', onAbort);
    tally ??= new ShardTally(now(), spec.warmupMs, spec.windows);
    try {
      await pool.close();
    } catch (err) {
      return rejectDone(err as Error);
    }
    for (const i of tally.takeRest()) onInterval(i);
    sendingEnded();
    resolveDone({ ...tally.result(), dropped: partial || !pacer ? 0 : pacer.dropped(), busy: busy ?? 0, silenceMs: Math.round(silenceMs), partial });
  };
  const onAbort = () => {
    partial = true;
    running = false;
    abortDeadline = now() + ABORT_GRACE_MS;
    timers.forEach((t) => clearTimeout(t));
    // Aborted before the start: there is nothing to wait for.
    if (!started) {
      allConnected();
      void finish();
    }
  };
  if (signal?.aborted) queueMicrotask(onAbort);
  signal?.addEventListener('abort', onAbort);

  return {
    connected,
    start(startAt: number) {
      if (finishing) return done;
      const endAt = startAt + spec.profile.endMs;
      tally = new ShardTally(startAt, spec.warmupMs, spec.windows);
      pacer = pacerFor(spec, { startAt, endAt });
      ticker = setInterval(() => {
        for (const i of tally!.takeSeconds(Math.floor((now() - startAt) / 1000))) onInterval(i);
      }, 1000);
      // After the end (or an abort), finish once nothing is in flight; the client's request
      // timeout bounds the wait, the deadline is a safety net.
      const deadline = endAt + spec.timeoutMs + 2000;
      watch = setInterval(() => {
        const t = now();
        if (running && t < endAt) return;
        sendingEnded();
        if (!inflight.some(Boolean) || t > deadline || t > abortDeadline) void finish();
      }, 25);
      setTimeout(() => {
        started = true;
        eluAtStart = performance.eventLoopUtilization();
        for (const c of idleBeforeStart) schedule(c);
        idleBeforeStart.clear();
      }, Math.max(0, startAt - now()));
      return done;
    },
  };
}
