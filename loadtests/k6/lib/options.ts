import type { Options, Scenario, Stage } from 'k6/options';
import { DEFAULT_MIX, HERO_DISTRIBUTIONS, type HeroDistribution, type MixWeights } from '../../mix.ts';
import { SUMMARY_CLASSES } from './classify.ts';
import type { Threshold } from '../../thresholds.ts';
import { errorSubmetric, k6Thresholds, parseK6Thresholds } from './thresholds.ts';

// The vote script's settings, read from k6 env vars (`-e NAME=value` or the
// process environment), and the k6 options they imply. Names and defaults follow
// `loadtest run` (loadtests/plan.ts): RATE set = open model, else VOTERS closed;
// the warm-up is the first part of DURATION. The key is not a setting here: the
// script reads it from MYHERO_APP_KEY and never puts it in a report.

/** A k6 duration string and its length in seconds. */
export interface Duration {
  text: string;
  seconds: number;
}

/** The runner's defaults (PLAN_DEFAULTS in loadtests/plan.ts; a test keeps them equal). */
export const DEFAULTS = {
  voters: 50,
  duration: '30s',
  timeout: '10s',
  drainTimeout: '30s',
  /** The recorded count must not move for this long before the drain is called done. */
  drainStable: '3s',
  thresholds: 'p99<500ms,failed_rate<0.01',
} as const;

/** VUs for the open model: enough to keep the schedule with answers up to ~1 s (the runner's connections). */
export function openConnections(peakRate: number): number {
  return Math.min(1000, Math.max(10, Math.ceil(peakRate)));
}

export interface VoteSettings {
  target: string;
  model:
    /** `voters` VUs (with stages, their peak). */
    | { kind: 'closed'; voters: number; think: Duration }
    /** `rate` requests per second (with stages, their peak); `connections` VUs preallocated and the ceiling. */
    | { kind: 'open'; rate: number; connections: number };
  /** Whole load, warm-up included; with stages, their total. */
  duration: Duration;
  /** First part of the load, not measured (its accepted votes still count in reconciliation). */
  warmup: Duration;
  /** Ramp profile from 0; targets are voters (closed) or requests/s (open). */
  stages?: Stage[];
  timeout: Duration;
  drainTimeout: Duration;
  drainStable: Duration;
  mix: MixWeights;
  distribution: HeroDistribution;
  /** `weighted`: relative weight per hero name (unlisted heroes weigh 1). */
  heroWeights: Record<string, number>;
  /** Seed of each VU's request mix (VU number added); random when absent (SEED unset or 0). */
  seed?: number;
  thresholds: Threshold[];
  /** k6 instances sharing the test (k6-operator); above 1 no instance can reconcile on its own. */
  parallelism: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Go-style k6 durations (`1m30s`, `500ms`); a bare number means seconds. */
export function parseDuration(raw: string, name: string): Duration {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return { text: `${s}s`, seconds: Number(s) };
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const parts = s.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) ?? [];
  if (parts.length === 0 || parts.join('') !== s) throw new Error(`invalid ${name} "${raw}": expected a duration such as 500ms, 30s, 2m`);
  const seconds = parts.reduce((sum, p) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(p)!;
    return sum + Number(m[1]) * unit[m[2]!]!;
  }, 0);
  return { text: s, seconds };
}

function parseNumber(raw: string, name: string, min: number): number {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(n >= min)) throw new Error(`invalid ${name} "${raw}": expected a number of at least ${min}`);
  return n;
}

/** `name=weight,...` pairs. */
function parsePairs(raw: string, name: string, example: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(.+?)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`invalid ${name} "${raw}": expected pairs such as ${example}`);
    out[m[1]!.trim()] = Number(m[2]);
  }
  return out;
}

/** `vote=90,results=8,options=2`; kinds not named weigh 0. */
export function parseMix(raw: string): MixWeights {
  const pairs = parsePairs(raw, 'MIX', 'vote=90,results=8,options=2');
  const unknown = Object.keys(pairs).filter((k) => !Object.prototype.hasOwnProperty.call(DEFAULT_MIX, k));
  if (unknown.length) throw new Error(`invalid MIX "${raw}": unknown kind ${unknown[0]}; kinds are vote, results, options`);
  const mix: MixWeights = { vote: pairs.vote ?? 0, results: pairs.results ?? 0, options: pairs.options ?? 0 };
  if (!(mix.vote > 0)) throw new Error(`invalid MIX "${raw}": the mix must include votes (vote=N with N > 0)`);
  return mix;
}

/** `10s:50,30s:50,10s:0` → k6 stages, ramping from 0. */
export function parseStages(raw: string): Stage[] {
  const stages = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const m = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(p);
      if (!m) throw new Error(`invalid STAGES "${raw}": expected duration:target pairs such as 10s:50,30s:50,10s:0`);
      return { duration: parseDuration(m[1]!, 'STAGES').text, target: Number(m[2]) };
    });
  if (!stages.some((s) => s.target > 0) || stages.some((s) => parseDuration(s.duration, 'STAGES').seconds <= 0)) {
    throw new Error(`invalid STAGES "${raw}": stages need positive durations and some target above 0`);
  }
  return stages;
}

function validUrl(raw: string | undefined): string {
  if (!raw) throw new Error('TARGET is required: the myhero-app URL, e.g. -e TARGET=http://127.0.0.1:15001');
  if (!/^https?:\/\/[^/\s]+/.test(raw)) throw new Error(`invalid TARGET "${raw}": expected an http(s) URL such as http://127.0.0.1:15001`);
  return raw.replace(/\/+$/, '');
}

/** Settings from env; each bad value throws one line naming the variable and what it expects. */
export function settingsFromEnv(env: Env): VoteSettings {
  const get = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const stagesRaw = get('STAGES');
  const stages = stagesRaw ? parseStages(stagesRaw) : undefined;
  const stagesSeconds = stages?.reduce((sum, st) => sum + parseDuration(st.duration, 'STAGES').seconds, 0);
  const duration = stages ? { text: `${stagesSeconds}s`, seconds: stagesSeconds! } : parseDuration(get('DURATION') ?? DEFAULTS.duration, 'DURATION');
  const warmup = parseDuration(get('WARMUP') ?? '0s', 'WARMUP');
  if (warmup.seconds >= duration.seconds) throw new Error(`invalid WARMUP "${warmup.text}": must be shorter than the load (${duration.seconds} s)`);
  const rateRaw = get('RATE');
  const rate = rateRaw ? parseNumber(rateRaw, 'RATE', 0) : 0;
  const peak = stages ? Math.max(...stages.map((s) => s.target)) : rate;
  const connectionsRaw = get('CONNECTIONS');
  // With stages the level is theirs: the model states the peak, as the runner's conditions do.
  const model: VoteSettings['model'] =
    rate > 0
      ? { kind: 'open', rate: peak, connections: Math.ceil(connectionsRaw ? parseNumber(connectionsRaw, 'CONNECTIONS', 1) : openConnections(peak)) }
      : {
          kind: 'closed',
          voters: stages ? peak : Math.floor(parseNumber(get('VOTERS') ?? String(DEFAULTS.voters), 'VOTERS', 1)),
          think: parseDuration(get('THINK') ?? '0s', 'THINK'),
        };
  const distribution = (get('DISTRIBUTION') ?? 'uniform') as HeroDistribution;
  if (!HERO_DISTRIBUTIONS.includes(distribution)) throw new Error(`invalid DISTRIBUTION "${distribution}": expected one of ${HERO_DISTRIBUTIONS.join('|')}`);
  // As with --seed, 0 means a random sequence.
  const seed = Math.floor(parseNumber(get('SEED') ?? '0', 'SEED', 0));
  const parallelism = Math.floor(parseNumber(get('PARALLELISM') ?? '1', 'PARALLELISM', 1));
  // An explicitly empty THRESHOLDS turns them all off.
  const thresholds = parseK6Thresholds(env.THRESHOLDS ?? DEFAULTS.thresholds);
  const reconciled = thresholds.find((t) => t.metric === 'lost' || t.metric === 'extra');
  if (parallelism > 1 && reconciled) {
    throw new Error(`threshold ${reconciled.source} needs a single k6 instance: with PARALLELISM=${parallelism} each sees only its own accepted votes`);
  }
  return {
    target: validUrl(env.TARGET),
    model,
    duration,
    warmup,
    stages,
    timeout: parseDuration(get('TIMEOUT') ?? DEFAULTS.timeout, 'TIMEOUT'),
    drainTimeout: parseDuration(get('DRAIN_TIMEOUT') ?? DEFAULTS.drainTimeout, 'DRAIN_TIMEOUT'),
    drainStable: parseDuration(get('DRAIN_STABLE') ?? DEFAULTS.drainStable, 'DRAIN_STABLE'),
    mix: get('MIX') ? parseMix(get('MIX')!) : DEFAULT_MIX,
    distribution,
    heroWeights: get('WEIGHTS') ? parsePairs(get('WEIGHTS')!, 'WEIGHTS', 'Superman=3,Batman=1') : {},
    ...(seed ? { seed } : {}),
    thresholds,
    parallelism,
  };
}

/** Seconds of measured load: the whole load minus the warm-up. */
export function measuredSeconds(s: VoteSettings): number {
  return s.duration.seconds - s.warmup.seconds;
}

/**
 * k6 takes whole iterations per timeUnit. A fractional rate (--rate accepts 2.5)
 * becomes a whole number per a longer unit: 2.5/s → 25 per 10s, spread evenly as k6 does.
 */
export function arrivalUnit(ratesPerSecond: readonly number[]): { perUnit: (r: number) => number; timeUnit: string } {
  for (const seconds of [1, 10, 100, 1000]) {
    if (ratesPerSecond.every((r) => Math.abs(r * seconds - Math.round(r * seconds)) < 1e-9)) {
      return { perUnit: (r) => Math.round(r * seconds), timeUnit: `${seconds}s` };
    }
  }
  return { perUnit: (r) => Math.round(r * 1000), timeUnit: '1000s' };
}

function scenario(s: VoteSettings): Scenario {
  if (s.model.kind === 'closed') {
    // Voter i is active while the level exceeds i (the runner's rule): a fractional target rounds up.
    return s.stages
      ? { executor: 'ramping-vus', startVUs: 0, stages: s.stages.map((st) => ({ ...st, target: Math.ceil(st.target) })) }
      : { executor: 'constant-vus', vus: s.model.voters, duration: s.duration.text };
  }
  const unit = arrivalUnit(s.stages ? s.stages.map((st) => st.target) : [s.model.rate]);
  const vus = { preAllocatedVUs: s.model.connections, maxVUs: s.model.connections, timeUnit: unit.timeUnit };
  return s.stages
    ? { ...vus, executor: 'ramping-arrival-rate', startRate: 0, stages: s.stages.map((st) => ({ ...st, target: unit.perUnit(st.target) })) }
    : { ...vus, executor: 'constant-arrival-rate', rate: unit.perUnit(s.model.rate), duration: s.duration.text };
}

/** The k6 `options` export: one scenario (closed: VUs; open: arrival rate), thresholds, summary stats. */
export function k6Options(s: VoteSettings): Options {
  const thresholds = k6Thresholds(s.thresholds, measuredSeconds(s));
  // Always-true thresholds that make k6 list each failure class in the summary.
  for (const c of SUMMARY_CLASSES) thresholds[errorSubmetric(c)] ??= ['count>=0'];
  return {
    scenarios: { vote: scenario(s) },
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(99)', 'p(99.9)'],
    // teardown waits for the queue to drain, polling /v2/results.
    teardownTimeout: `${Math.ceil(s.drainTimeout.seconds + s.drainStable.seconds + 2 * s.timeout.seconds + 10)}s`,
  };
}
