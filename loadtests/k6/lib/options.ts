import type { Options, Scenario, Stage } from 'k6/options';
import { APP_MODES, type AppMode } from '../../../lib/defaults.ts';
import { duration, int, number, oneOf } from '../../../lib/parse.ts';
import { DEFAULT_MIX, HERO_DISTRIBUTIONS, type HeroDistribution, type MixWeights } from '../../mix.ts';
import { PLAN_DEFAULTS, parseHeroWeights, parseMix, parseStages } from '../../plan.ts';
import type { Threshold } from '../../thresholds.ts';
import { SUMMARY_CLASSES } from './classify.ts';
import { errorSubmetric, k6Thresholds, parseK6Thresholds } from './thresholds.ts';

// The vote script's settings, read from k6 env vars (`-e NAME=value` or the
// process environment), and the k6 options they imply. The parsers, defaults and
// connection counts are the runner's own (loadtests/plan.ts, lib/parse.ts), inlined
// by esbuild: RATE set = open model, else VOTERS closed; the warm-up is the first
// part of DURATION. The key is not a setting here: the script reads it from
// MYHERO_APP_KEY and never puts it in a report.

/** A k6 duration string and its length in seconds. */
export interface Duration {
  text: string;
  seconds: number;
}

/** k6's default thresholds (the runner has none by default; a k6 script conventionally carries some). */
export const DEFAULT_THRESHOLDS = 'p99<500ms,failed_rate<0.01';

/** Milliseconds as a k6 duration: 30000 → 30s, 1500 → 1500ms. */
export function k6Duration(ms: number): Duration {
  // Whole microseconds: 1.1 s parses as 1100.0000000000002 ms.
  const rounded = Math.round(ms * 1000) / 1000;
  return { text: rounded % 1000 === 0 ? `${rounded / 1000}s` : `${rounded}ms`, seconds: rounded / 1000 };
}

/** A duration setting (`1m30s`, `500ms`; a bare number means seconds), parsed by the runner's parser. */
export function parseDuration(raw: string, name: string): Duration {
  return k6Duration(duration(raw, name));
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
  /** The app's mode when known: `direct` has no queue, so a count that stopped short is final (lost). */
  appMode?: AppMode;
}

export type Env = Readonly<Record<string, string | undefined>>;

function validUrl(raw: string | undefined): string {
  if (!raw) throw new Error('TARGET is required: the myhero-app URL, e.g. -e TARGET=http://127.0.0.1:15001');
  // Not lib/parse.ts's url(): k6 has no URL global.
  if (!/^https?:\/\/[^/\s]+/.test(raw)) throw new Error(`invalid TARGET "${raw}": expected an http(s) URL such as http://127.0.0.1:15001`);
  return raw.replace(/\/+$/, '');
}

/** Settings from env; each bad value throws one line naming the variable and what it expects. */
export function settingsFromEnv(env: Env): VoteSettings {
  const get = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const setting = <T>(name: string, parse: (raw: string, name: string) => T, fallback: T): T => {
    const raw = get(name);
    return raw === undefined ? fallback : parse(raw, name);
  };
  const stagesRaw = get('STAGES');
  const stages = stagesRaw ? parseStages(stagesRaw, 'STAGES') : undefined;
  const duration = stages ? k6Duration(stages.reduce((sum, st) => sum + st.durationMs, 0)) : setting('DURATION', parseDuration, k6Duration(PLAN_DEFAULTS.durationMs));
  const warmup = setting('WARMUP', parseDuration, k6Duration(0));
  if (warmup.seconds >= duration.seconds) throw new Error(`invalid WARMUP "${warmup.text}": must be shorter than the load (${duration.seconds} s)`);
  const rate = setting('RATE', number(0, 10_000_000), 0);
  const peak = stages ? Math.max(...stages.map((s) => s.target)) : rate;
  // With stages the level is theirs: the model states the peak, as the runner's conditions do.
  const model: VoteSettings['model'] =
    rate > 0
      ? { kind: 'open', rate: peak, connections: setting('CONNECTIONS', int(1, 1_000_000), PLAN_DEFAULTS.openConnections(peak)) }
      : {
          kind: 'closed',
          voters: stages ? peak : setting('VOTERS', int(1, 1_000_000), PLAN_DEFAULTS.voters),
          think: setting('THINK', parseDuration, k6Duration(0)),
        };
  // As with --seed, 0 means a random sequence.
  const seed = setting('SEED', int(0, 2 ** 32 - 1), 0);
  const parallelism = setting('PARALLELISM', int(1, 1000), 1);
  // An explicitly empty THRESHOLDS turns them all off.
  const thresholds = parseK6Thresholds(env.THRESHOLDS ?? DEFAULT_THRESHOLDS);
  const reconciled = thresholds.find((t) => t.metric === 'lost' || t.metric === 'extra');
  if (parallelism > 1 && reconciled) {
    throw new Error(`threshold ${reconciled.source} needs a single k6 instance: with PARALLELISM=${parallelism} each sees only its own accepted votes`);
  }
  const appMode = setting<AppMode | undefined>('APP_MODE', oneOf(APP_MODES), undefined);
  return {
    target: validUrl(env.TARGET),
    model,
    duration,
    warmup,
    ...(stages ? { stages: stages.map((st) => ({ duration: k6Duration(st.durationMs).text, target: st.target })) } : {}),
    timeout: setting('TIMEOUT', parseDuration, k6Duration(PLAN_DEFAULTS.timeoutMs)),
    drainTimeout: setting('DRAIN_TIMEOUT', parseDuration, k6Duration(PLAN_DEFAULTS.drainTimeoutMs)),
    drainStable: setting('DRAIN_STABLE', parseDuration, k6Duration(PLAN_DEFAULTS.stableMs)),
    mix: setting('MIX', parseMix, DEFAULT_MIX),
    distribution: setting('DISTRIBUTION', oneOf(HERO_DISTRIBUTIONS), 'uniform'),
    heroWeights: setting('WEIGHTS', parseHeroWeights, {}),
    ...(seed ? { seed } : {}),
    thresholds,
    parallelism,
    ...(appMode ? { appMode } : {}),
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
