import os from 'node:os';
import { silentLogger, type Logger } from '../lib/log.ts';
import { addTally, emptyTally, failedOf, mergeHistograms, percentiles, type Interval, type Tally } from './accounting.ts';
import type { Percentiles, RunFigures } from './figures.ts';
import { autocannonVersion } from './http-client.ts';
import { DEFAULT_MIX } from './mix.ts';
import { PLAN_DEFAULTS, type LoadPlan } from './plan.ts';
import { totalOf, type BacklogPoint, type HeroCounts, type Reconciliation } from './reconcile.ts';
import { profileOf } from './schedule.ts';
import { SeriesMerger, type IntervalSample } from './series.ts';
import { now, prepareShard, type ShardResult, type ShardSpec } from './shard.ts';
import { storedRate, type StoredRate } from './stored-rate.ts';
import { openSession, type BacklogSource } from './session.ts';
import { spawnShard } from './worker.ts';

// The core run: plan in, result out. Preflight the target, read its recorded
// votes, drive the shards, watch the backlog, drain, and account. The parts are
// elsewhere: shards (shard.ts), the per-second series (series.ts), the drain
// (drain.ts) and its judgement (reconcile.ts).

export type { IntervalSample, LoadPlan };
/** The bounds (seconds) of an interval's `latencyBuckets`, for the callers that read them (chaos). */
export { LATENCY_BUCKETS_S } from './accounting.ts';

export interface RunConditions {
  target: string;
  model: 'closed' | 'open';
  voters?: number;
  thinkMs?: number;
  rate?: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  stages?: { durationSeconds: number; target: number }[];
  mix: { vote: number; results: number; options: number };
  heroDistribution: string;
  heroes: number;
  timeoutMs: number;
  workers: number;
  drainTimeoutSeconds?: number;
  backlogSource: BacklogSource;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string; autocannon: string };
  /** Whatever the caller adds: mode, storage profile, trial. */
  [extra: string]: unknown;
}

/** The figures of one window of the plan (by intended send time), e.g. one fixed-rate step. */
export interface WindowFigures {
  startSeconds: number;
  endSeconds: number;
  requests: number;
  attempted: number;
  accepted: number;
  failed: number;
  errors: Record<string, number>;
  /** Accepted votes per second of the window's length. */
  acceptedPerSec: number;
  latencyMs: Percentiles;
}

export interface RunResult extends RunFigures, StoredRate {
  conditions: RunConditions;
  /** Stopped early (Ctrl-C): figures cover what ran. */
  partial: boolean;
  /** Whether recorded votes were compared with accepted ones (the plan can skip it). */
  reconciled: boolean;
  /** Set when the run cannot be judged whatever its thresholds say: the target went away mid-run. */
  unjudged?: string;
  /** Votes accepted over the whole run, warm-up included: the figure reconciliation uses. */
  acceptedTotal: number;
  acceptedByHero: HeroCounts;
  /** Total recorded votes before the load; null when not reconciled. */
  recordedBefore: number | null;
  /** Reads (GET /v2/results, /options) that failed. */
  readErrors: number;
  /** Requests that went out on a new connection (the server closed the previous one, or it failed); not failures. */
  reconnects: number;
  /** Open model: scheduled requests no free connection could send. */
  dropped: number;
  /** How late the generator's own timers fired (its event loop's lag): high values mean the load machine limited the rate, not the target. */
  generatorLagMs: Percentiles;
  /**
   * Share of the sending period the busiest generator thread's event loop was busy (0–1): near 1
   * it could not have sent faster, so the load machine, not the target, limited the rate.
   */
  generatorBusy: number;
  /** The longest the target held a request without answering anything, in ms (a stall, a pause). */
  targetSilenceMs: number;
  /** Seconds the rates are computed over (the run minus warm-up). */
  measuredSeconds: number;
  startedAt: string;
  series: IntervalSample[];
  /** Backlog over time, load and drain; t in seconds since the start. */
  backlog: BacklogPoint[];
  /** The plan's windows, when it has any. */
  windows?: WindowFigures[];
}

export interface RunOptions {
  signal?: AbortSignal;
  onSample?: (s: IntervalSample) => void;
  /** Called once the preflight is done and the first requests are about to go out. */
  onStart?: () => void;
  /** Called while waiting for the queue to drain after the load. */
  onDrain?: (recordedDelta: number | undefined, backlog: number | undefined, elapsedSeconds: number) => void;
  log?: Logger;
  /** Extra conditions to state in the result (mode, storage profile, ...). */
  conditions?: Record<string, unknown>;
}

function machine(): RunConditions['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    autocannon: autocannonVersion,
  };
}

/** Deal the plan's voters or arrivals round-robin over `workers` shards. */
function shardSpecs(plan: LoadPlan, heroes: string[], seed: number): ShardSpec[] {
  const level = plan.model.kind === 'closed' ? plan.model.voters : plan.model.rate;
  const profile = profileOf(level, plan.durationMs, plan.stages);
  const total = plan.model.kind === 'closed' ? Math.ceil(profile.peak) : (plan.model.connections ?? PLAN_DEFAULTS.openConnections(profile.peak));
  const shards = Math.max(1, Math.min(plan.workers ?? 1, total));
  return Array.from({ length: shards }, (_, shard) => ({
    target: plan.target,
    key: plan.key,
    heroes,
    distribution: plan.mix?.distribution ?? 'uniform',
    ...(plan.mix?.heroWeights ? { weights: plan.mix.heroWeights } : {}),
    mix: plan.mix?.weights ?? DEFAULT_MIX,
    model: plan.model.kind,
    profile,
    thinkMs: plan.model.kind === 'closed' ? (plan.model.thinkMs ?? 0) : 0,
    shard,
    shards,
    connections: Math.floor(total / shards) + (shard < total % shards ? 1 : 0),
    warmupMs: plan.warmupMs ?? 0,
    ...(plan.windows?.length ? { windows: plan.windows } : {}),
    timeoutMs: plan.timeoutMs ?? PLAN_DEFAULTS.timeoutMs,
    seed: (seed + shard * 7919) >>> 0,
  }));
}

export function conditionsOf(plan: LoadPlan, specs: ShardSpec[], backlogSource: RunConditions['backlogSource'], extra: Record<string, unknown> = {}): RunConditions {
  const first = specs[0]!;
  return {
    target: plan.target,
    model: plan.model.kind,
    ...(plan.model.kind === 'closed' ? { voters: first.profile.peak, thinkMs: first.thinkMs } : { rate: first.profile.peak }),
    connections: specs.reduce((a, s) => a + s.connections, 0),
    durationSeconds: plan.durationMs / 1000,
    warmupSeconds: (plan.warmupMs ?? 0) / 1000,
    ...(plan.stages ? { stages: plan.stages.map((s) => ({ durationSeconds: s.durationMs / 1000, target: s.target })) } : {}),
    mix: first.mix,
    heroDistribution: first.distribution,
    heroes: first.heroes.length,
    timeoutMs: first.timeoutMs,
    workers: specs.length,
    ...(plan.reconcile !== false ? { drainTimeoutSeconds: (plan.reconcile?.drainTimeoutMs ?? PLAN_DEFAULTS.drainTimeoutMs) / 1000 } : {}),
    backlogSource,
    machine: machine(),
    ...extra,
  };
}

/** Run the shards (in this thread, or one worker thread each) from a common start time. */
async function runShards(
  specs: ShardSpec[],
  onStart: (startAt: number) => void,
  onInterval: (shard: number, i: Interval) => void,
  signal?: AbortSignal,
): Promise<ShardResult[]> {
  if (specs.length === 1) {
    const shard = prepareShard(specs[0]!, (i) => onInterval(0, i), signal);
    await shard.connected;
    const startAt = now() + 20;
    onStart(startAt);
    return [await shard.start(startAt)];
  }
  const threads = specs.map((spec, k) => spawnShard(spec, (i) => onInterval(k, i)));
  try {
    await Promise.all(threads.map((t) => t.ready));
    const startAt = now() + 50;
    onStart(startAt);
    const onAbort = () => threads.forEach((t) => t.abort());
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const results = await Promise.all(threads.map((t) => t.start(startAt)));
    signal?.removeEventListener('abort', onAbort);
    return results;
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

/**
 * Run a load plan against a myhero-app: preflight (unreachable target, wrong key or a data
 * tier that does not answer → UserError), recorded votes before, the load, the drain, the accounting.
 */
export async function runLoad(plan: LoadPlan, opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? silentLogger;
  const { signal } = opts;
  const session = await openSession(plan, signal);
  const doReconcile = plan.reconcile !== false;
  const specs = shardSpecs(plan, session.heroes, plan.seed ?? (Math.random() * 2 ** 32) >>> 0);
  const conditions = conditionsOf(plan, specs, session.backlogSource, opts.conditions);
  log.debug({ conditions: { ...conditions, machine: undefined } }, 'load test starting');

  const backlog: BacklogPoint[] = [];
  let acceptedSoFar = 0;
  const merger = new SeriesMerger(specs.length, specs[0]!.profile, plan.model.kind === 'closed', (s) => {
    acceptedSoFar += s.accepted;
    opts.onSample?.(s);
  });
  let startAt = now();
  const at = () => Math.round((now() - startAt) / 100) / 10;
  const pollBacklog = async () => {
    const point = await session.readBacklog(acceptedSoFar).catch(() => undefined);
    if (point !== undefined) backlog.push({ t: at(), ...point });
  };
  const backlogTimer = session.backlogSource === 'none' ? undefined : setInterval(() => void pollBacklog(), 1000);

  const started = new Date();
  let results: ShardResult[];
  try {
    results = await runShards(
      specs,
      (at) => {
        startAt = at;
        opts.onStart?.();
      },
      (_shard, i) => merger.add(i, backlog.at(-1)?.votes),
      signal,
    );
  } finally {
    clearInterval(backlogTimer);
  }
  const loadEnd = now();
  const partial = results.some((r) => r.partial) || Boolean(signal?.aborted);
  const total = results.reduce((acc, r) => addTally(acc, r.total), emptyTally());
  const measured: Tally = results.reduce((acc, r) => addTally(acc, r.measured), emptyTally());
  const acceptedByHero: HeroCounts = {};
  for (const r of results) for (const [h, n] of Object.entries(r.acceptedByHero)) acceptedByHero[h] = (acceptedByHero[h] ?? 0) + n;
  const series = merger.flush();

  /** The count read first after the load: what was recorded while it ran. */
  let recordedAtLoadEnd: number | undefined;
  const drainStart = now();
  const reconciliation: Reconciliation = await session.drain(acceptedByHero, (recorded, votes) => {
    recordedAtLoadEnd ??= recorded;
    if (votes !== undefined) backlog.push({ t: at(), votes, ...(recorded !== undefined ? { recorded } : {}) });
    opts.onDrain?.(recorded, votes, (now() - drainStart) / 1000);
  });
  // Rates are over the measured window up to the last answer: answers that came after the
  // planned end (a slow target) stretch the window instead of inflating the rate.
  const lastAnswerAt = Math.max(...results.map((r) => r.lastAnswerAt));
  const windowEnd = Math.max(partial ? Math.min(loadEnd, startAt + plan.durationMs) : startAt + plan.durationMs, lastAnswerAt);
  const measuredSeconds = Math.max(0.001, (windowEnd - startAt - (plan.warmupMs ?? 0)) / 1000);
  const perSec = (n: number, seconds = measuredSeconds) => Math.round((n / seconds) * 10) / 10;
  const pct = (encoded: string[]) => {
    const h = mergeHistograms(encoded);
    const p = percentiles(h);
    h.destroy();
    return p;
  };
  const refused = total.errors.refused ?? 0;

  const result: RunResult = {
    attempted: measured.attempted,
    accepted: measured.accepted,
    failed: failedOf(measured),
    acceptedPerSec: perSec(measured.accepted),
    requestsPerSec: perSec(measured.requests),
    latencyMs: pct(results.map((r) => r.latency)),
    errors: measured.errors,
    ...reconciliation,
    conditions,
    partial,
    reconciled: doReconcile,
    ...(refused > 0 ? { unjudged: `the target refused connections during the run (${refused} vote${refused === 1 ? '' : 's'}): it was not there for part of the load` } : {}),
    acceptedTotal: total.accepted,
    acceptedByHero,
    recordedBefore: doReconcile ? totalOf(session.before) : null,
    readErrors: measured.readErrors,
    reconnects: measured.reconnects,
    dropped: results.reduce((a, r) => a + r.dropped, 0),
    generatorLagMs: pct(results.map((r) => r.sendLag)),
    generatorBusy: Math.max(...results.map((r) => r.busy)),
    targetSilenceMs: Math.max(...results.map((r) => r.silenceMs)),
    ...storedRate({
      loadSeconds: (loadEnd - startAt) / 1000,
      acceptedTotal: total.accepted,
      recordedDelta: reconciliation.recordedDelta,
      drainSeconds: reconciliation.drainSeconds,
      ...(recordedAtLoadEnd !== undefined ? { recordedAtLoadEnd } : {}),
    }),
    measuredSeconds: Math.round(measuredSeconds * 1000) / 1000,
    startedAt: started.toISOString(),
    series,
    backlog,
    ...(plan.windows?.length ? { windows: windowFigures(plan.windows, results, pct) } : {}),
  };
  log.debug({ accepted: result.accepted, failed: result.failed, outcome: result.outcome, lost: result.lost, partial }, 'load test finished');
  return result;
}

function windowFigures(windows: NonNullable<LoadPlan['windows']>, results: ShardResult[], pct: (encoded: string[]) => Percentiles): WindowFigures[] {
  return windows.map((w, k) => {
    const t = results.reduce((acc, r) => addTally(acc, r.windows[k]!.tally), emptyTally());
    const seconds = Math.max(0.001, (w.endMs - w.startMs) / 1000);
    return {
      startSeconds: w.startMs / 1000,
      endSeconds: w.endMs / 1000,
      requests: t.requests,
      attempted: t.attempted,
      accepted: t.accepted,
      failed: failedOf(t),
      errors: t.errors,
      acceptedPerSec: Math.round((t.accepted / seconds) * 10) / 10,
      latencyMs: pct(results.map((r) => r.windows[k]!.latency)),
    };
  });
}
