import { UserError } from '../lib/errors.ts';
import { duration as parseDuration, type Parser } from '../lib/parse.ts';
import type { AppMode } from '../lib/defaults.ts';
import type { HeroDistribution, MixWeights } from './mix.ts';
import type { MetricsTarget } from './reconcile.ts';
import type { Stage } from './schedule.ts';
import type { TallyWindow } from './tally.ts';

// Settings → LoadPlan: what a run will do, as plain data. The plan is the only
// input of the engine; nothing downstream reads flags or env.

export type LoadModel =
  /** `voters` concurrent voters, each voting as soon as the previous answer came (plus think time). */
  | { kind: 'closed'; voters: number; thinkMs?: number }
  /** `rate` requests per second on a fixed schedule, whatever the answers do; `connections` caps concurrency. */
  | { kind: 'open'; rate: number; connections?: number };

export interface LoadPlan {
  /** myhero-app base URL, e.g. http://127.0.0.1:15001 */
  target: string;
  /** The myhero-app key; never logged or reported. */
  key: string;
  model: LoadModel;
  /** Length of the load; with stages, their total. */
  durationMs: number;
  /** The first part of the run, excluded from rates and latency (its votes still count in reconciliation). */
  warmupMs?: number;
  /**
   * Ramp/hold/ramp-down: the level (voters or requests/s) goes linearly to each target; replaces
   * the constant level. A zero-length stage jumps, so fixed-rate steps are `stepStages()` (schedule.ts).
   */
  stages?: Stage[];
  /** Slices of the run (ms after the start, by intended send time) reported on their own, e.g. one per step. */
  windows?: TallyWindow[];
  mix?: {
    weights?: MixWeights;
    distribution?: HeroDistribution;
    /** For `weighted`: relative weight per hero name (unlisted heroes weigh 1). */
    heroWeights?: Record<string, number>;
    /** Vote for these instead of the target's /options. */
    heroes?: string[];
  };
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Worker threads generating load (1 = the calling thread). */
  workers?: number;
  /** Read the recorded count before and after and wait for the drain; false to skip. */
  reconcile?: false | { drainTimeoutMs: number; stableMs?: number };
  /**
   * The services' /metrics endpoints (the twin's, or a real deployment's with the twin's names):
   * the queue backlog, and ernst's state, which tells a stalled consumer from a loss.
   * Without them backlog = accepted − recorded.
   */
  twinMetrics?: MetricsTarget[];
  /** The app's mode when known (compare knows it): direct mode has no queue, so a stable count is final. */
  appMode?: AppMode;
  /** Seed of the request mix (random when omitted). */
  seed?: number;
}

/** The defaults of `loadtest run` (and of the k6 script, which imports them). */
export const PLAN_DEFAULTS = {
  voters: 50,
  durationMs: 30_000,
  timeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  stableMs: 3_000,
  /** Enough connections for the open model to keep its schedule with answers up to ~1 s. */
  openConnections: (peakRate: number) => Math.min(1000, Math.max(10, Math.ceil(peakRate))),
} as const;

const usage = (msg: string): never => {
  throw new UserError(msg, 2);
};

/** `vote=90,results=8,options=2` → relative weights; missing kinds weigh 0. */
export const parseMix: Parser<MixWeights> = (raw, name) => {
  const mix: MixWeights = { vote: 0, results: 0, options: 0 };
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(vote|results|options)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) return usage(`invalid ${name} "${raw}": expected e.g. vote=90,results=8,options=2`);
    mix[m[1] as keyof MixWeights] = Number(m[2]);
  }
  if (mix.vote <= 0) return usage(`invalid ${name} "${raw}": the mix must include votes (vote=N with N > 0)`);
  return mix;
};

/** `Superman=3,Batman=2` → weight per hero. */
export const parseHeroWeights: Parser<Record<string, number>> = (raw, name) => {
  const out: Record<string, number> = {};
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(.+?)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) return usage(`invalid ${name} "${raw}": expected Hero=weight pairs such as Superman=3,Batman=1`);
    out[m[1]!.trim()] = Number(m[2]);
  }
  return out;
};

/** k6-style stages `10s:50,30s:50,10s:0` (duration:target, ramping linearly from the previous target, starting at 0). */
export const parseStages: Parser<Stage[]> = (raw, name) => {
  const stages = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const m = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(item);
      if (!m) return usage(`invalid ${name} "${raw}": expected duration:target pairs such as 10s:50,30s:50,10s:0`);
      return { durationMs: parseDuration(m[1]!, name), target: Number(m[2]) };
    });
  if (!stages.some((s) => s.target > 0) || stages.some((s) => s.durationMs <= 0)) {
    usage(`invalid ${name} "${raw}": stages need positive durations and some target above 0`);
  }
  return stages;
};

/** The settings a run is built from (flags, env, config file, already parsed). */
export interface RunSettings {
  target: string;
  key: string;
  voters: number;
  /** Requests per second; 0 = closed model. */
  rate: number;
  thinkMs: number;
  connections: number;
  durationMs: number;
  warmupMs: number;
  stages: Stage[];
  mix: MixWeights;
  distribution: HeroDistribution;
  heroWeights: Record<string, number>;
  timeoutMs: number;
  workers: number;
  drainTimeoutMs: number;
  seed: number;
}

export function buildPlan(s: RunSettings): LoadPlan {
  if (!s.target) usage('no target: pass --target URL of myhero-app (e.g. http://127.0.0.1:15001)');
  if (!s.key) usage('no key: pass --key, env MYHERO_APP_KEY or --key-file');
  const durationMs = s.stages.length ? s.stages.reduce((a, st) => a + st.durationMs, 0) : s.durationMs;
  if (!(durationMs > 0)) usage('invalid --duration: must be above 0');
  if (s.warmupMs >= durationMs) usage(`invalid --warmup: must be shorter than the run (${durationMs / 1000} s)`);
  const model: LoadModel =
    s.rate > 0
      ? { kind: 'open', rate: s.rate, ...(s.connections ? { connections: s.connections } : {}) }
      : { kind: 'closed', voters: s.voters, ...(s.thinkMs ? { thinkMs: s.thinkMs } : {}) };
  if (model.kind === 'closed' && model.voters < 1 && !s.stages.length) usage('invalid --voters: need at least 1 voter');
  return {
    target: s.target,
    key: s.key,
    model,
    durationMs,
    warmupMs: s.warmupMs,
    ...(s.stages.length ? { stages: s.stages } : {}),
    mix: { weights: s.mix, distribution: s.distribution, heroWeights: s.heroWeights },
    timeoutMs: s.timeoutMs,
    workers: s.workers,
    reconcile: { drainTimeoutMs: s.drainTimeoutMs },
    seed: s.seed,
  };
}
