import { createRequire } from 'node:module';
import os from 'node:os';
import { silentLogger, type Logger } from '../lib/log.ts';
import {
  addTally,
  emptyTally,
  failedOf,
  mergeHistograms,
  mergeSeries,
  percentiles,
  reconcile,
  type Interval,
  type Tally,
} from './accounting.ts';
import type { RunFigures } from './figures.ts';
import { DEFAULT_MIX } from './mix.ts';
import { PLAN_DEFAULTS, type LoadPlan } from './plan.ts';
import { readTwinBacklog, waitForDrain, type BacklogPoint } from './reconcile.ts';
import { levelAt, profileOf } from './schedule.ts';
import { now, prepareShard, type ShardResult, type ShardSpec } from './shard.ts';
import { probeTarget, readRecorded } from './target.ts';
import { spawnShard } from './worker.ts';

// The core run: plan in, result out. Preflight the target, snapshot its recorded
// votes, drive the shards, watch the backlog, wait for the drain, and account.

export type { LoadPlan };

/** One second of a run (t = seconds since the start), merged over shards, with the backlog seen then. */
export interface IntervalSample extends Interval {
  /** Active voters (closed model) or scheduled requests/s (open model) in that second. */
  level: number;
  backlog?: number;
}

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
  backlogSource: 'twin-metrics' | 'recorded-vs-accepted' | 'none';
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string; autocannon: string };
  /** Whatever the caller adds: mode, storage profile, trial. */
  [extra: string]: unknown;
}

export interface RunResult extends RunFigures {
  conditions: RunConditions;
  /** Stopped early (Ctrl-C): figures cover what ran. */
  partial: boolean;
  /** Whether recorded votes were compared with accepted ones (the plan can skip it). */
  reconciled: boolean;
  /** The drain timeout passed with votes still uncounted. */
  drainTimedOut: boolean;
  /** Stopped (Ctrl-C) before the queue drained: `lost` counts votes not yet recorded then, not a proven loss. */
  drainSkipped: boolean;
  /** Why the recorded count could not be read at the end, if it could not. */
  drainError?: string;
  /** Votes accepted over the whole run, warm-up included: the figure reconciliation uses. */
  acceptedTotal: number;
  recordedBefore: number;
  recordedAfter: number;
  /** Reads (GET /v2/results, /options) that failed. */
  readErrors: number;
  /** Open model: scheduled requests no free connection could send. */
  dropped: number;
  /** Seconds the rates are computed over (the run minus warm-up). */
  measuredSeconds: number;
  startedAt: string;
  series: IntervalSample[];
  /** Backlog over time, load and drain; t in seconds since the start. */
  backlog: BacklogPoint[];
}

export interface RunOptions {
  signal?: AbortSignal;
  onSample?: (s: IntervalSample) => void;
  /** Called once the preflight is done and the first requests are about to go out. */
  onStart?: () => void;
  /** Called while waiting for the queue to drain after the load. */
  onDrain?: (recordedDelta: number, backlog: number | undefined, elapsedSeconds: number) => void;
  log?: Logger;
  /** Extra conditions to state in the result (mode, storage profile, ...). */
  conditions?: Record<string, unknown>;
}

const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;

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
export function shardSpecs(plan: LoadPlan, heroes: string[], seed: number): ShardSpec[] {
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
 * Run a load plan against a myhero-app: preflight (unreachable target or wrong key →
 * UserError), recorded count before, the load, the drain, the accounting.
 */
export async function runLoad(plan: LoadPlan, opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? silentLogger;
  const { signal } = opts;
  const heroes = plan.mix?.heroes ?? (await probeTarget(plan.target, plan.key, signal));
  const doReconcile = plan.reconcile !== false;
  const recordedBefore = doReconcile ? await readRecorded(plan.target, plan.key, signal) : 0;
  const twin = plan.twinMetrics ?? [];
  const backlogZero = twin.length ? await readTwinBacklog(twin, signal) : undefined;
  const backlogSource: RunConditions['backlogSource'] = backlogZero !== undefined ? 'twin-metrics' : doReconcile ? 'recorded-vs-accepted' : 'none';
  const specs = shardSpecs(plan, heroes, plan.seed ?? (Math.random() * 2 ** 32) >>> 0);
  const conditions = conditionsOf(plan, specs, backlogSource, opts.conditions);
  log.debug({ conditions: { ...conditions, machine: undefined } }, 'load test starting');

  // Per-second samples arrive per shard; a second is complete once every shard reported it.
  const pending = new Map<number, { count: number; merged: Interval[] }>();
  const series: IntervalSample[] = [];
  const backlog: BacklogPoint[] = [];
  let acceptedSoFar = 0;
  const onInterval = (_shard: number, i: Interval) => {
    const slot = pending.get(i.t) ?? pending.set(i.t, { count: 0, merged: [] }).get(i.t)!;
    slot.count += 1;
    slot.merged.push(i);
    if (slot.count < specs.length) return;
    pending.delete(i.t);
    const level = levelAt(specs[0]!.profile, i.t * 1000);
    const sample: IntervalSample = { ...mergeSeries([slot.merged])[0]!, level: plan.model.kind === 'closed' ? Math.floor(level) : level };
    acceptedSoFar += sample.accepted;
    const last = backlog.at(-1);
    if (last) sample.backlog = last.votes;
    series.push(sample);
    opts.onSample?.(sample);
  };

  const readBacklog = async (): Promise<number | undefined> => {
    if (backlogZero !== undefined) {
      const raw = await readTwinBacklog(twin, signal);
      return raw === undefined ? undefined : Math.max(0, raw - backlogZero);
    }
    if (!doReconcile) return undefined;
    const recorded = await readRecorded(plan.target, plan.key, signal).catch(() => undefined);
    return recorded === undefined ? undefined : Math.max(0, acceptedSoFar - (recorded - recordedBefore));
  };
  let startAt = now();
  const pollBacklog = async () => {
    const votes = await readBacklog().catch(() => undefined);
    if (votes !== undefined) backlog.push({ t: Math.round((now() - startAt) / 100) / 10, votes });
  };
  const backlogTimer = backlogSource === 'none' ? undefined : setInterval(() => void pollBacklog(), 1000);

  const started = new Date();
  let results: ShardResult[];
  try {
    results = await runShards(
      specs,
      (at) => {
        startAt = at;
        opts.onStart?.();
      },
      onInterval,
      signal,
    );
  } finally {
    clearInterval(backlogTimer);
  }
  const loadEnd = now();
  const partial = results.some((r) => r.partial) || Boolean(signal?.aborted);
  const total = results.reduce((acc, r) => addTally(acc, r.total), emptyTally());
  const measured: Tally = results.reduce((acc, r) => addTally(acc, r.measured), emptyTally());
  const histogram = mergeHistograms(results.map((r) => r.latency));
  const latencyMs = percentiles(histogram);
  histogram.destroy();
  // Seconds some shard reported but not all (an aborted worker): keep what arrived.
  for (const [t, slot] of [...pending].sort((a, b) => a[0] - b[0])) series.push({ ...mergeSeries([slot.merged])[0]!, level: levelAt(specs[0]!.profile, t * 1000) });

  let recordedAfter = recordedBefore;
  let drainSeconds = 0;
  let drainTimedOut = false;
  let drainError: string | undefined;
  if (doReconcile) {
    const settings = plan.reconcile || undefined;
    const policy = {
      timeoutMs: signal?.aborted ? 0 : (settings?.drainTimeoutMs ?? PLAN_DEFAULTS.drainTimeoutMs),
      stableMs: settings?.stableMs ?? PLAN_DEFAULTS.stableMs,
    };
    const drainStart = now();
    const drain = await waitForDrain({
      // After Ctrl-C one quick read, so the command still stops within 2 s.
      readRecorded: () => readRecorded(plan.target, plan.key, signal?.aborted ? AbortSignal.timeout(500) : undefined),
      // Only the twin's own counters prove a queue still holds votes; accepted − recorded cannot tell a backlog from a loss.
      readBacklog: backlogSource === 'twin-metrics' ? readBacklog : async () => undefined,
      acceptedTotal: total.accepted,
      recordedBefore,
      policy,
      ...(signal ? { signal } : {}),
      onPoll: (recorded, b) => {
        const elapsed = (now() - drainStart) / 1000;
        const votes = b ?? Math.max(0, total.accepted - (recorded - recordedBefore));
        backlog.push({ t: Math.round((now() - startAt) / 100) / 10, votes });
        opts.onDrain?.(recorded - recordedBefore, votes, elapsed);
      },
    });
    recordedAfter = drain.recordedAfter;
    drainSeconds = drain.drainSeconds;
    drainTimedOut = drain.timedOut;
    drainError = drain.error;
  }
  const rec = reconcile(total.accepted, recordedBefore, recordedAfter, drainSeconds);
  // Rates are over the measured window up to the last answer: answers that came after the
  // planned end (a slow target) stretch the window instead of inflating the rate.
  const lastAnswerAt = Math.max(...results.map((r) => r.lastAnswerAt));
  const windowEnd = Math.max(partial ? Math.min(loadEnd, startAt + plan.durationMs) : startAt + plan.durationMs, lastAnswerAt);
  const measuredSeconds = Math.max(0.001, (windowEnd - startAt - (plan.warmupMs ?? 0)) / 1000);
  const perSec = (n: number) => Math.round((n / measuredSeconds) * 10) / 10;

  const result: RunResult = {
    attempted: measured.attempted,
    accepted: measured.accepted,
    failed: failedOf(measured),
    acceptedPerSec: perSec(measured.accepted),
    requestsPerSec: perSec(measured.requests),
    latencyMs,
    errors: measured.errors,
    recordedDelta: rec.recordedDelta,
    lost: doReconcile ? rec.lost : 0,
    extra: doReconcile ? rec.extra : 0,
    drainSeconds: rec.drainSeconds,
    conditions,
    partial,
    reconciled: doReconcile,
    drainTimedOut,
    drainSkipped: doReconcile && Boolean(signal?.aborted) && rec.lost > 0,
    ...(drainError ? { drainError } : {}),
    acceptedTotal: total.accepted,
    recordedBefore,
    recordedAfter,
    readErrors: measured.readErrors,
    dropped: results.reduce((a, r) => a + r.dropped, 0),
    measuredSeconds: Math.round(measuredSeconds * 1000) / 1000,
    startedAt: started.toISOString(),
    series,
    backlog,
  };
  log.debug({ accepted: result.accepted, failed: result.failed, lost: result.lost, partial }, 'load test finished');
  return result;
}
