import type { Command } from 'commander';
import { defineCommand, defineGroup, type RunContext } from '../lib/cli.ts';
import { setting, type Resolved } from '../lib/config.ts';
import { namespaceSettings } from '../lib/kube-safety.ts';
import { APP_MODES, K8S, KEYS, LOOPBACK, PORTS, TWIN_FLAVOURS, type AppMode, type TwinFlavour } from '../lib/defaults.ts';
import { EXIT, UserError } from '../lib/errors.ts';
import { bool, duration, int, list, number, oneOf, string, url, type Parser } from '../lib/parse.ts';
import { createProgress } from '../lib/progress.ts';
import { KEY_ON_COMMAND_LINE, keyOnCommandLine, readSecret } from '../lib/secrets.ts';
import { STORAGE, STORAGE_PROFILES, type StorageProfile } from '../lab/lab.ts';
import { k6Staircase, SEARCH_DEFAULTS, SLO_DEFAULTS, type CapacityStep } from './capacity.ts';
import type { CapacityPlan, CapacityResult } from './capacity-run.ts';
import { capacityJson, renderCapacityReport, stepsTable } from './capacity-report.ts';
import type { ModeProvider } from './compare.ts';
import type { IntervalSample, RunResult } from './engine.ts';
import { registerK6Operator } from './k6operator-cli.ts';
import type { LiveMetrics } from './metrics.ts';
import { DEFAULT_MIX, HERO_DISTRIBUTIONS } from './mix.ts';
import { buildPlan, PLAN_DEFAULTS, parseHeroWeights, parseMix, parseStages, type LoadPlan } from './plan.ts';
import { describeReconciliation, type MetricsTarget } from './reconcile.ts';
import type { Stage } from './schedule.ts';
import { compareJson, compareRows, defaultReportDir, loadLine, renderCompareReport, renderRunReport, resultsText, runJson, runRows, thresholdVerdict, writeReport } from './report.ts';
import { checkCapacityThresholds, checkRunThresholds, evaluateCapacity, evaluateCompare, evaluateRun, parseThresholds, type ThresholdOutcome } from './thresholds.ts';

// `loadtest run`, `loadtest compare` and the top-level `demo`: settings → plan →
// run → result → report, with a live progress line, live metrics and --json.
// The engine, the lab, the Kubernetes client and prom-client are imported when a
// command runs, so --help and bad input answer without loading them.

const KEY_ENV = ['MYHERO_APP_KEY'] as const;

/** A capacity search and the demo measure votes: reads of /v2/results re-read the data tier's whole file. */
const VOTES_ONLY = { vote: 100, results: 0, options: 0 };

/** `app=URL,data=URL,ernst=URL`, or plain URLs whose series may come from any service (e.g. a Prometheus /federate). */
const parseMetricsUrls = (raw: string, name: string): MetricsTarget[] =>
  list(string)(raw, name).map((item) => {
    const m = /^(app|data|ernst)=(.+)$/.exec(item);
    if (m) return { service: m[1]!, url: url(m[2]!, name) };
    if (/^[a-z]+=/.test(item)) throw new UserError(`invalid ${name} "${raw}": expected URLs, or service=URL pairs (app, data, ernst) such as app=http://127.0.0.1:15001/metrics`, EXIT.badInput);
    return { service: 'any', url: url(item, name) };
  });

const metricsUrlSpec = setting({
  flag: '--metrics-url <list>',
  describe: "the services' /metrics, as app=URL,data=URL,ernst=URL (or plain URLs, e.g. a Prometheus /federate): queue backlog, and ernst's state to tell a stalled consumer from a loss",
  default: [] as MetricsTarget[],
  shown: '',
  parse: parseMetricsUrls,
});

/** A duration in ms as help shows it: 30000 → 30s, 500 → 500ms. */
const showMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** The load shape, shared by run, compare and demo; `d` overrides the defaults. */
function loadSpec(d: { voters?: number; rate?: number; duration?: number; drainTimeout?: number; threshold?: string[]; think?: number; mix?: typeof DEFAULT_MIX } = {}) {
  const mix = d.mix ?? DEFAULT_MIX;
  return {
    voters: setting({ flag: '--voters <n>', describe: 'closed model: concurrent voters, each voting as soon as its previous answer came', default: d.voters ?? PLAN_DEFAULTS.voters, parse: int(0, 100_000) }),
    think: setting({ flag: '--think <duration>', describe: 'closed model: pause of each voter between an answer and its next vote', default: d.think ?? 0, shown: showMs(d.think ?? 0), parse: duration }),
    rate: setting({ flag: '--rate <n>', describe: 'open model: requests per second on a fixed schedule (latency corrected for coordinated omission); 0 = closed model', default: d.rate ?? 0, parse: number(0, 1_000_000) }),
    connections: setting({ flag: '--connections <n>', describe: 'open model: connections to send from (default: the rate, 10–1000)', default: 0, shown: '', parse: int(0, 100_000) }),
    duration: setting({ flag: '--duration <duration>', describe: 'length of the load, e.g. 30s, 2m', default: d.duration ?? PLAN_DEFAULTS.durationMs, shown: showMs(d.duration ?? PLAN_DEFAULTS.durationMs), parse: duration }),
    warmup: setting({ flag: '--warmup <duration>', describe: 'first part of the load excluded from rates and latency (its votes still count in reconciliation)', default: 0, shown: '', parse: duration }),
    stages: setting({ flag: '--stages <list>', describe: 'ramp/hold/ramp-down as duration:target pairs, e.g. 10s:50,30s:50,10s:0 (target = voters, or requests/s with --rate)', default: [] as Stage[], shown: '', parse: parseStages }),
    mix: setting({ flag: '--mix <weights>', describe: 'request mix', default: mix, shown: `vote=${mix.vote},results=${mix.results},options=${mix.options}`, parse: parseMix }),
    distribution: setting({ flag: '--distribution <name>', describe: `how voters pick heroes from the target's /options: ${HERO_DISTRIBUTIONS.join('|')}`, default: 'uniform' as (typeof HERO_DISTRIBUTIONS)[number], parse: oneOf(HERO_DISTRIBUTIONS) }),
    weights: setting({ flag: '--weights <list>', describe: 'with --distribution weighted: Hero=weight pairs, e.g. Superman=3,Batman=1', default: {} as Record<string, number>, shown: '', parse: parseHeroWeights }),
    timeout: setting({ flag: '--timeout <duration>', describe: 'per-request timeout', default: PLAN_DEFAULTS.timeoutMs, shown: showMs(PLAN_DEFAULTS.timeoutMs), parse: duration }),
    workers: setting({ flag: '--workers <n>', describe: 'worker threads generating load, for targets one thread cannot saturate', default: 1, parse: int(1, 64) }),
    drainTimeout: setting({ flag: '--drain-timeout <duration>', describe: 'after the load, how long to wait for the recorded count to catch up', default: d.drainTimeout ?? PLAN_DEFAULTS.drainTimeoutMs, shown: showMs(d.drainTimeout ?? PLAN_DEFAULTS.drainTimeoutMs), parse: duration }),
    threshold: setting({ flag: '--threshold <expr...>', describe: 'k6-style pass/fail criteria, e.g. p99<500ms lost==0 failed_rate<0.01 (exit 1 when one fails)', default: d.threshold ?? [], parse: list(string) }),
    seed: setting({ flag: '--seed <n>', describe: 'seed of the request mix (default: random)', default: 0, shown: '', parse: int(0, 2 ** 32 - 1) }),
    json: setting({ flag: '--json', describe: 'print the results as JSON on stdout', default: false, parse: bool }),
    out: setting({ flag: '--out <dir>', describe: 'report folder (default: reports/<timestamp>/)', default: '', parse: string }),
    metricsPort: setting({ flag: '--metrics-port <n>', describe: 'serve live Prometheus metrics of the run on this port (0 = off)', default: PORTS.loadtestMetrics as number, parse: int(0, 65535) }),
    metricsHost: setting({ flag: '--metrics-host <addr>', describe: 'address of the live metrics endpoint', default: LOOPBACK as string, parse: string }),
  };
}

const keySpec = {
  key: setting({ flag: '--key <key>', describe: 'myhero-app key [env: MYHERO_APP_KEY]; prefer the env var or --key-file', default: '', parse: string, secret: true }),
  keyFile: setting({ flag: '--key-file <file>', describe: 'file whose first line is the myhero-app key', default: '', parse: string }),
};

type LoadSettings = Resolved<ReturnType<typeof loadSpec>>;

/** The load shape of a capacity search: the steps set the rate and length, so no voters, rate, duration or stages. */
function capacityLoadSpec() {
  const { voters: _v, think: _t, rate: _r, duration: _d, warmup: _w, stages: _s, ...rest } = loadSpec({ mix: VOTES_ONLY });
  return rest;
}

/** `1%`, `95%` or a share such as 0.95 → a share from 0 to 1. */
const share: Parser<number> = (raw, name) => {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(raw.trim());
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v >= 0 && v <= 1)) throw new UserError(`invalid ${name} "${raw}": expected a percentage such as 1% or a share from 0 to 1`, EXIT.badInput);
  return v;
};

/** The capacity search and its SLO, shared by `loadtest capacity`, `compare --capacity` and `demo`; `d` overrides the defaults. */
function capacitySpec(d: Partial<typeof SEARCH_DEFAULTS> = {}) {
  const v = { ...SEARCH_DEFAULTS, ...d };
  return {
    startRate: setting({ flag: '--start-rate <n>', describe: 'capacity search: the first arrival rate tried (requests/s)', default: v.startRate, parse: number(0.1, 1_000_000) }),
    maxRate: setting({ flag: '--max-rate <n>', describe: 'capacity search: never offer more than this (requests/s); the search ends there if nothing broke', default: v.maxRate, parse: number(0.1, 1_000_000) }),
    growth: setting({ flag: '--growth <x>', describe: 'capacity search: multiply the rate by this at each step until one breaks', default: v.growth, parse: number(1.1, 100) }),
    step: setting({ flag: '--step <duration>', describe: 'capacity search: length of each fixed-rate step', default: v.stepMs, shown: showMs(v.stepMs), parse: duration }),
    settle: setting({ flag: '--settle <duration>', describe: 'capacity search: pause after each step before the next', default: v.settleMs, shown: showMs(v.settleMs), parse: duration }),
    refine: setting({ flag: '--refine <n>', describe: 'capacity search: steps between the last good and the first bad rate', default: v.refineSteps, parse: int(0, 20) }),
    sloP99: setting({ flag: '--slo-p99 <duration>', describe: 'SLO of a sustained rate: accepted-vote p99 latency at most this', default: SLO_DEFAULTS.p99Ms, shown: showMs(SLO_DEFAULTS.p99Ms), parse: duration }),
    sloFailed: setting({ flag: '--slo-failed <percent>', describe: 'SLO of a sustained rate: failed votes at most this share', default: SLO_DEFAULTS.maxFailedRate, shown: '1%', parse: share }),
    sloAchieved: setting({ flag: '--slo-achieved <percent>', describe: 'SLO of a sustained rate: requests answered per second at least this share of the offered rate', default: SLO_DEFAULTS.minAchievedRatio, shown: '95%', parse: share }),
  };
}

type CapacitySettings = Resolved<ReturnType<typeof capacitySpec>>;

/** The search's settings (without the load it sends) from the resolved flags. */
function capacityPlanOf(cfg: CapacitySettings & { drainTimeout: number; connections: number }): Omit<CapacityPlan, 'load'> {
  if (cfg.startRate > cfg.maxRate) throw new UserError(`invalid --start-rate ${cfg.startRate}: above --max-rate ${cfg.maxRate}`, EXIT.badInput);
  if (!(cfg.step > 0)) throw new UserError('invalid --step: must be above 0', EXIT.badInput);
  return {
    search: { startRate: cfg.startRate, maxRate: cfg.maxRate, growth: cfg.growth, refineSteps: cfg.refine },
    stepMs: cfg.step,
    settleMs: cfg.settle,
    slo: { p99Ms: cfg.sloP99, maxFailedRate: cfg.sloFailed, minAchievedRatio: cfg.sloAchieved },
    reconcile: { drainTimeoutMs: cfg.drainTimeout },
    ...(cfg.connections ? { connections: cfg.connections } : {}),
  };
}

function resolveKey(cfg: { key: string; keyFile: string }, log: RunContext['log']): string {
  if (keyOnCommandLine(process.argv)) log.warn(KEY_ON_COMMAND_LINE);
  const key = readSecret({ value: cfg.key || undefined, file: cfg.keyFile || undefined, env: KEY_ENV, what: 'the myhero-app key' });
  if (!key) throw new UserError('no myhero-app key: pass --key, env MYHERO_APP_KEY or --key-file (samples: DevApp on workstations, SecureApp in the cluster manifests)', 2);
  return key;
}

function planOf(cfg: LoadSettings, target: string, key: string): LoadPlan {
  return buildPlan({
    target,
    key,
    voters: cfg.voters,
    rate: cfg.rate,
    thinkMs: cfg.think,
    connections: cfg.connections,
    durationMs: cfg.duration,
    warmupMs: cfg.warmup,
    stages: cfg.stages,
    mix: cfg.mix,
    distribution: cfg.distribution,
    heroWeights: cfg.weights,
    timeoutMs: cfg.timeout,
    workers: cfg.workers,
    drainTimeoutMs: cfg.drainTimeout,
    seed: cfg.seed || ((Math.random() * 2 ** 32) >>> 0),
  });
}

/** The live line: elapsed, votes/s, errors, backlog; then the drain. */
function liveView(ctx: RunContext, metrics: LiveMetrics, json: boolean) {
  const progress = createProgress(ctx.log, json ? { everyMs: 5000 } : {});
  let label = '';
  let errors = 0;
  return {
    start(l: string) {
      label = l;
      errors = 0;
    },
    sample(mode: string, s: IntervalSample) {
      metrics.observe(mode, s);
      errors += s.attempted - s.accepted;
      progress.update({ run: label, elapsed: `${s.t + 1}s`, 'votes/s': s.accepted, errors, backlog: s.backlog ?? '-' });
    },
    drain(mode: string, recorded: number | undefined, backlog: number | undefined, elapsed: number) {
      if (backlog !== undefined) metrics.setBacklog(mode, backlog);
      progress.update({ run: label, draining: `${elapsed.toFixed(1)}s`, recorded: recorded ?? 'unread', backlog: backlog ?? '-' });
    },
    /** One line per judged capacity step. */
    step(mode: string, s: CapacityStep) {
      progress.done();
      const verdict = s.ok ? 'ok' : `BROKE by ${s.brokeBy}`;
      if (process.stderr.isTTY && !json) process.stderr.write(`${mode} step ${s.step} (${s.phase}) ${s.offeredPerSec}/s: ${verdict}: ${s.why}\n`);
      else ctx.log.info({ mode, step: s.step, phase: s.phase, offeredPerSec: s.offeredPerSec, ok: s.ok, brokeBy: s.brokeBy, why: s.why }, 'capacity step');
    },
    /** One line per finished run: on a terminal above the live line, otherwise a log record. */
    runEnd(trial: number, mode: string, r: RunResult) {
      progress.done();
      const fields = { trial, mode, acceptedPerSec: r.acceptedPerSec, failed: r.failed, reconnects: r.reconnects, p99Ms: r.latencyMs.p99, outcome: r.outcome, lost: r.lost, drainSeconds: r.drainSeconds, reason: r.reason };
      if (process.stderr.isTTY && !json) process.stderr.write(`${label}: ${loadLine(r)}; ${describeReconciliation(r, r.acceptedTotal)}\n`);
      else ctx.log.info(fields, 'run finished');
    },
    done: () => progress.done(),
  };
}

function checkThresholds(raw: string[]) {
  return parseThresholds(raw.flatMap((r) => list(string)(r, '--threshold')));
}

function report(ctx: RunContext, json: boolean, jsonDoc: unknown, table: string, lines: string[], dir: string, outcomes: ThresholdOutcome[]): void {
  if (json) ctx.out(JSON.stringify(jsonDoc, null, 2));
  else {
    ctx.out(table);
    for (const l of lines) ctx.out(l);
    for (const o of outcomes) ctx.out(`threshold ${o.ok ? 'ok  ' : thresholdVerdict(o)} ${o.threshold}${o.mode ? ` (${o.mode})` : ''}: ${o.actual ?? 'unknown'}`);
    ctx.out(`report: ${dir}/report.html`);
  }
}

/** What makes a run or a capacity search impossible to judge: the target went away mid-run, or the final read failed. */
type Judgeable = Pick<RunResult, 'unjudged' | 'unsettledBy' | 'reason'>;

/** A capacity search as the exit code and the NOT JUDGED lines read it. */
export const searchJudgeable = (c: Pick<CapacityResult, 'unjudged' | 'reconciliation'>): Judgeable => ({ ...c.reconciliation, ...(c.unjudged ? { unjudged: c.unjudged } : {}) });

/**
 * 130 stopped by Ctrl-C; 3 a run or search could not be judged (the target went away mid-run,
 * the final read failed, or a threshold's figure is unknown, e.g. `lost` of a drain that did not
 * settle); 1 a threshold failed; else 0.
 */
export function exitCode(partial: boolean, outcomes: readonly ThresholdOutcome[], runs: readonly Judgeable[]): number {
  if (partial) return EXIT.interrupted;
  if (runs.some((r) => r.unjudged || r.unsettledBy === 'read') || outcomes.some((o) => o.unknown)) return EXIT.unjudged;
  return outcomes.some((o) => !o.ok) ? EXIT.failed : EXIT.passed;
}

/** Why the exit code is 3, in lines for the terminal. */
const unjudgedLines = (runs: readonly { label: string; r: Judgeable }[]) =>
  runs.flatMap(({ label, r }) => [
    ...(r.unjudged ? [`NOT JUDGED (${label}): ${r.unjudged}`] : []),
    ...(r.unsettledBy === 'read' ? [`NOT JUDGED (${label}): ${r.reason}`] : []),
  ]);

async function runCommand(cfg: LoadSettings & { target: string; metricsUrl: MetricsTarget[]; key: string; keyFile: string }, ctx: RunContext): Promise<number> {
  const thresholds = checkThresholds(cfg.threshold);
  if (thresholds.some((t) => t.metric === 'ratio' || t.mode)) throw new UserError('--threshold: ratio and direct./queue. thresholds belong to loadtest compare', EXIT.badInput);
  // capacity_ratio, sustained_per_sec: refused now, not after the whole load.
  checkRunThresholds(thresholds);
  const key = resolveKey(cfg, ctx.log);
  const plan: LoadPlan = { ...planOf(cfg, cfg.target, key), ...(cfg.metricsUrl.length ? { twinMetrics: cfg.metricsUrl } : {}) };
  const [{ runLoad }, { startLiveMetrics }] = await Promise.all([import('./engine.ts'), import('./metrics.ts')]);
  const metrics = await startLiveMetrics(cfg.metricsHost, cfg.metricsPort);
  const view = liveView(ctx, metrics, cfg.json);
  view.start('run');
  try {
    const result = await runLoad(plan, {
      signal: ctx.signal,
      log: ctx.log,
      onSample: (s) => view.sample('run', s),
      onDrain: (r, b, e) => view.drain('run', r, b, e),
    });
    view.done();
    const outcomes = evaluateRun(thresholds, result);
    const dir = cfg.out || defaultReportDir();
    writeReport(dir, renderRunReport(result, outcomes), [key]);
    const lines = [`${result.partial ? 'PARTIAL: ' : ''}${loadLine(result)}`, `reconciliation: ${describeReconciliation(result, result.acceptedTotal)}`, ...unjudgedLines([{ label: 'run', r: result }])];
    report(ctx, cfg.json, runJson(result, outcomes), resultsText(runRows(result)), lines, dir, outcomes);
    return exitCode(result.partial, outcomes, [result]);
  } finally {
    view.done();
    await metrics.close();
  }
}

type CompareSettings = LoadSettings &
  CapacitySettings & { trials: number; key: string; keyFile: string; capacity: boolean; burst: number; restartErnst: boolean };

async function compareCommand(cfg: CompareSettings, ctx: RunContext, provider: ModeProvider, key: string): Promise<number> {
  const thresholds = checkThresholds(cfg.threshold);
  if (!cfg.capacity && thresholds.some((t) => t.metric === 'capacity_ratio' || t.metric === 'sustained_per_sec')) {
    throw new UserError('--threshold: capacity_ratio and sustained_per_sec need the capacity searches (--capacity)', EXIT.badInput);
  }
  const capacity = cfg.capacity ? capacityPlanOf(cfg) : undefined;
  const { target: _t, ...plan } = planOf(cfg, 'http://placeholder.invalid', key);
  const [{ runCompare }, { startLiveMetrics }] = await Promise.all([import('./compare.ts'), import('./metrics.ts')]);
  const metrics = await startLiveMetrics(cfg.metricsHost, cfg.metricsPort);
  const view = liveView(ctx, metrics, cfg.json);
  try {
    const { result, runs, capacity: searches, bursts } = await runCompare(plan, provider, {
      trials: cfg.trials,
      ...(capacity ? { capacity } : {}),
      ...(cfg.burst ? { burst: cfg.burst } : {}),
      ...(cfg.restartErnst ? { restartConsumerAt: RESTART_ERNST_AT_S } : {}),
      signal: ctx.signal,
      log: ctx.log,
      onPhaseStart: (phase, mode) => view.start(phase === 'burst' ? `${mode} burst of ${cfg.burst} votes in 1 s` : `${mode} capacity`),
      onStep: (mode, step) => view.step(mode, step),
      onRunStart: (trial, mode) => view.start(`trial ${trial}/${cfg.trials} ${mode}`),
      onSample: (mode, s) => view.sample(mode, s),
      onDrain: (mode, r, b, e) => view.drain(mode, r, b, e),
      onRunEnd: ({ trial, mode, result: r }) => view.runEnd(trial, mode, r),
    });
    view.done();
    const figures = { direct: { ...result.modes.direct, lost: result.lostOverall.direct }, queue: { ...result.modes.queue, lost: result.lostOverall.queue } };
    const outcomes = evaluateCompare(thresholds, figures, result.ratio ?? Infinity, result.capacity ? { ratio: result.capacityRatio ?? null, ...result.capacity } : undefined);
    const dir = cfg.out || defaultReportDir();
    writeReport(dir, renderCompareReport(result, runs, outcomes, bursts), [key]);
    const profile = result.conditions.storageProfile;
    const judged = [
      ...Object.entries(searches).map(([mode, c]) => ({ label: `${mode} capacity`, r: searchJudgeable(c) })),
      ...runs.map((r) => ({ label: `trial ${r.trial} ${r.mode}`, r: r.result })),
      ...Object.entries(bursts).map(([mode, r]) => ({ label: `${mode} burst`, r })),
    ];
    const lines = [
      ...(profile === 'pi-sd'
        ? [`storage profile: pi-sd in use (the lab's data tier emulates a Raspberry Pi SD card: one synced vote at a time, ${STORAGE['pi-sd'].syncLatencyMs} ms each)`]
        : []),
      ...Object.entries(searches).map(([mode, c]) => `capacity ${mode}: ${c.atLeast ? '≥ ' : ''}${c.sustainedPerSec}/s (${c.brokeBy ? `broke by ${c.brokeBy}` : 'nothing broke'}); reconciliation ${describeReconciliation(c.reconciliation, c.acceptedTotal)}`),
      ...Object.entries(result.burst ?? {}).map(([mode, b]) => {
        const failed = b.failed ? ` (${Object.entries(b.errors).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
        return `burst ${mode}: ${b.offered} votes in 1 s: accepted ${b.accepted}, failed ${b.failed}${failed}, p99 ${b.latencyMs.p99} ms; ${describeReconciliation(bursts[mode as AppMode]!, b.accepted)}`;
      }),
      ...(result.capacity ? [`capacity ratio (queue/direct sustained): ${result.capacityRatio ?? 'n/a'}`] : []),
      `ratio (queue/direct accepted votes/s): ${result.ratio ?? 'n/a'}`,
      `verdict: ${result.verdict}`,
      ...unjudgedLines(judged),
    ];
    report(ctx, cfg.json, compareJson(result, outcomes), resultsText(compareRows(result)), lines, dir, outcomes);
    return exitCode(
      result.partial,
      outcomes,
      judged.map((x) => x.r),
    );
  } finally {
    view.done();
    await metrics.close();
  }
}

type CapacityCommandSettings = Omit<LoadSettings, 'voters' | 'think' | 'rate' | 'duration' | 'warmup' | 'stages'> & CapacitySettings & { key: string; keyFile: string };

/**
 * 130 stopped; 3 not judged: the target went away mid-search, the final read failed, a threshold's
 * figure is unknown, or the generator — not the target — ended the search and no threshold
 * vouches for the lower bound it left; 1 a threshold failed; else 0.
 */
export function capacityExitCode(r: Pick<CapacityResult, 'partial' | 'unjudged' | 'brokeBy' | 'reconciliation'>, outcomes: readonly ThresholdOutcome[]): number {
  const code = exitCode(r.partial, outcomes, [searchJudgeable(r)]);
  return code === EXIT.passed && r.brokeBy === 'generator' && !outcomes.length ? EXIT.unjudged : code;
}

async function capacityCommand(cfg: CapacityCommandSettings, ctx: RunContext, provider: ModeProvider, mode: AppMode | undefined, key: string, metricsUrl: MetricsTarget[] = []): Promise<number> {
  const thresholds = checkThresholds(cfg.threshold);
  checkCapacityThresholds(thresholds);
  const search = capacityPlanOf(cfg);
  const seed = cfg.seed || ((Math.random() * 2 ** 32) >>> 0);
  const [{ runCapacity }, { startLiveMetrics }] = await Promise.all([import('./capacity-run.ts'), import('./metrics.ts')]);
  const metrics = await startLiveMetrics(cfg.metricsHost, cfg.metricsPort);
  const view = liveView(ctx, metrics, cfg.json);
  const label = mode ?? 'run';
  try {
    let result: CapacityResult;
    try {
      const target = await provider.acquire(mode ?? 'direct', ctx.signal);
      const twinMetrics = target.twinMetrics ?? metricsUrl;
      result = await runCapacity(
        {
          ...search,
          load: {
            target: target.target,
            key,
            mix: { weights: cfg.mix, distribution: cfg.distribution, heroWeights: cfg.weights },
            timeoutMs: cfg.timeout,
            workers: cfg.workers,
            seed,
            ...(mode ? { appMode: mode } : {}),
            ...(twinMetrics.length ? { twinMetrics } : {}),
          },
        },
        {
          signal: ctx.signal,
          log: ctx.log,
          onStepStart: (n, rate, phase) => view.start(`step ${n} (${phase}) ${rate}/s`),
          onStep: (step) => view.step(label, step),
          onSample: (s) => view.sample(label, s),
          onDrain: (r, b, e) => view.drain(label, r, b, e),
          conditions: { ...(mode ? { mode } : {}), ...target.conditions },
        },
      );
    } finally {
      await provider.close(ctx.signal.aborted);
    }
    view.done();
    const outcomes = evaluateCapacity(thresholds, { ...result, lost: result.reconciliation.lost, extra: result.reconciliation.extra, drainSeconds: result.reconciliation.drainSeconds });
    const dir = cfg.out || defaultReportDir();
    writeReport(dir, renderCapacityReport(result, outcomes), [key]);
    const lines = [
      `${result.partial ? 'PARTIAL: ' : ''}${label} ${result.verdict}`,
      `reconciliation: ${describeReconciliation(result.reconciliation, result.acceptedTotal)}`,
      ...unjudgedLines([{ label, r: searchJudgeable(result) }]),
    ];
    report(ctx, cfg.json, capacityJson(result, outcomes), stepsTable(result), lines, dir, outcomes);
    return capacityExitCode(result, outcomes);
  } finally {
    view.done();
    await metrics.close();
  }
}

async function labProvider(cfg: { storageProfile: StorageProfile; flavour: TwinFlavour }, ctx: RunContext, mode?: AppMode): Promise<ModeProvider> {
  const { labModes } = await import('./modes.ts');
  ctx.log.info({ ...cfg, ...(mode ? { mode } : {}) }, `starting the lab twin in ${mode ? `${mode} mode` : 'direct and queue mode'} (storage profile ${cfg.storageProfile}, flavour ${cfg.flavour})`);
  return labModes({ ...cfg, ...(mode ? { modes: [mode] } : {}) });
}

const labSpec = (profile: StorageProfile) => ({
  storageProfile: setting<StorageProfile>({ flag: '--storage-profile <name>', describe: `lab only: storage emulation of the twin's data tier: ${STORAGE_PROFILES.join('|')} (pi-sd: a Raspberry Pi SD card)`, default: profile, parse: oneOf(STORAGE_PROFILES) }),
  flavour: setting<TwinFlavour>({
    flag: '--flavour <name>',
    describe: `lab only: ${TWIN_FLAVOURS.join('|')}: the twin hardened, or behaving like the original services on the wire (Connection: close, HTML 500s, QoS 0 retained votes)`,
    default: 'hardened',
    parse: oneOf(TWIN_FLAVOURS),
  }),
});

/** Where the Kubernetes switch of the app's mode acts; shared by compare and capacity. */
const k8sSpec = {
  k8s: setting({ flag: '--k8s', describe: 'switch one Deployment between the modes through the Kubernetes API', default: false, parse: bool }),
  namespace: setting({ flag: '--namespace <ns>', describe: 'with --k8s: namespace of the Deployment', default: K8S.defaultNamespace as string, parse: string }),
  deployment: setting({ flag: '--deployment <name>', describe: 'with --k8s: the myhero-app Deployment', default: K8S.appDeployment as string, parse: string }),
  container: setting({ flag: '--container <name>', describe: 'with --k8s: container whose env to set (default: the first)', default: '', parse: string }),
  kubeconfig: setting({ flag: '--kubeconfig <file>', describe: 'with --k8s: kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)', default: '', parse: string }),
  context: setting({ flag: '--context <name>', describe: 'with --k8s: kubeconfig context', default: '', parse: string }),
  rolloutTimeout: setting({ flag: '--rollout-timeout <duration>', describe: 'with --k8s: how long to wait for each rollout', default: 120_000, shown: '2m', parse: duration }),
  ...namespaceSettings,
  dryRun: setting({ flag: '--dry-run', describe: 'with --k8s: read the Deployment, print what would change, change nothing, send no load', default: false, parse: bool }),
  force: setting({ flag: '--force', describe: 'with --k8s: switch myhero_app_mode even when it comes from a ConfigMap or Secret (valueFrom; restored afterwards)', default: false, parse: bool }),
};

/**
 * The Deployment switched between the modes behind the chaos rails (restored afterwards, also on
 * failure or Ctrl-C). The plan is printed before the first write; a dry run stops there (undefined).
 */
async function k8sProvider(cfg: Resolved<typeof k8sSpec> & { target: string; json: boolean }, ctx: RunContext): Promise<ModeProvider | undefined> {
  if (!cfg.target) throw new UserError('--k8s needs --target URL: where the myhero-app Service is reached from here', EXIT.badInput);
  const { prepareK8sModes } = await import('./k8s-mode.ts');
  const k8s = await prepareK8sModes({
    target: cfg.target,
    namespace: cfg.namespace,
    deployment: cfg.deployment,
    ...(cfg.container ? { container: cfg.container } : {}),
    ...(cfg.kubeconfig ? { kubeconfig: cfg.kubeconfig } : {}),
    ...(cfg.context ? { context: cfg.context } : {}),
    rolloutTimeoutMs: cfg.rolloutTimeout,
    namespaceRules: { allowed: cfg.allowNamespaces, allowSystem: cfg.allowSystemNamespaces },
    force: cfg.force,
    log: ctx.log,
  });
  for (const line of k8s.plan) (cfg.json ? (l: string) => process.stderr.write(`${l}\n`) : ctx.out)(line);
  return cfg.dryRun ? undefined : k8s.provider();
}

/** When a queue trial's consumer is restarted with --restart-ernst (seconds into the run). */
const RESTART_ERNST_AT_S = 1;

/**
 * The demo: the capacity proof on the lab twin with a Pi-like data tier, in under 2 minutes on 2
 * cores. Capacity searches of 1 s steps from 30/s, the queue's capped at 240/s so its backlog
 * drains within the demo; 3 trials alternating at 80 votes/s offered (open model: about twice what
 * the Pi-like data tier stores); a 200-vote burst per mode.
 */
const DEMO_DEFAULTS = {
  rate: 80,
  mix: VOTES_ONLY,
  duration: 2_000,
  trials: 3,
  drainTimeout: 30_000,
  threshold: ['lost==0', 'capacity_ratio>1'],
  burst: 200,
  search: { startRate: 30, maxRate: 240, growth: 2, refineSteps: 3, stepMs: 1000, settleMs: 200 },
};

/** compare's and demo's options beyond the load shape: the capacity proof and the consumer restart. */
const proofSpec = (d: { capacity: boolean; burst: number }) => ({
  capacity: d.capacity
    ? setting({ flag: '--no-capacity', describe: 'skip the capacity searches', default: true, parse: bool })
    : setting({ flag: '--capacity', describe: 'run a capacity search per mode before the trials (see --start-rate ... --slo-achieved)', default: false, parse: bool }),
  burst: setting({ flag: '--burst <votes>', describe: 'after the trials, offer this many votes in one second to each mode (0 = none)', default: d.burst, parse: int(0, 100_000) }),
  restartErnst: setting({ flag: '--restart-ernst', describe: `lab only: kill ernst (SIGKILL) ${RESTART_ERNST_AT_S} s into every queue trial and start a new one; the original flavour loses votes, the hardened one must not`, default: false, parse: bool }),
});

export function registerLoadtests(program: Command): void {
  const group = defineGroup(program, 'loadtest', 'Vote load tests: throughput, failures, latency, and whether every accepted vote is counted');

  defineCommand(group, {
    name: 'run',
    summary: 'Load one myhero-app with voters and account for every vote',
    help:
      'Closed model (--voters, --think) or open model (--rate); stages; a vote/read mix over the target\'s own /options.\n' +
      'Reads /v2/results before and after and waits for the drain (--drain-timeout) to report lost and extra votes.\n' +
      'Examples:\n  myhero-ops loadtest run --target http://127.0.0.1:15001 --voters 50 --duration 30s --threshold "p99<500ms" lost==0\n' +
      '  MYHERO_APP_KEY=SecureApp myhero-ops loadtest run --target http://node:30001 --rate 200 --duration 1m --json\nSee loadtests/README.md.',
    section: 'loadtest',
    spec: {
      target: setting({ flag: '--target <url>', describe: 'myhero-app base URL [env: MYHERO_TARGET]', default: '', parse: url, env: ['MYHERO_TARGET'] }),
      metricsUrl: metricsUrlSpec,
      ...keySpec,
      ...loadSpec(),
    },
    run: (cfg, ctx) => runCommand(cfg, ctx),
  });

  registerK6Operator(group);

  defineCommand(group, {
    name: 'capacity',
    summary: 'Find the highest arrival rate one myhero-app sustains within an SLO (open model, fixed-rate steps)',
    help:
      'Steps of fixed arrival rate (wrk2/vegeta style, latency from the intended send time): geometric from --start-rate\n' +
      '(x --growth) until a step breaks the SLO (--slo-p99, --slo-failed, --slo-achieved) or --max-rate passes, then --refine\n' +
      'steps between the last good and the first bad rate. Reports every step, the knee (sustainedPerSec) and what broke\n' +
      'first: latency, failures, throughput — or the load generator itself, which is never blamed on the target.\n' +
      'Every step\'s votes are reconciled at the end (counted, lost, not settled). The target:\n' +
      '  --target URL [--metrics-url ...]                 a myhero-app you run\n' +
      '  --lab [--mode direct|queue] [--storage-profile]  the lab twin\n' +
      `  --k8s --target URL --mode M [--namespace NS] [--deployment ${K8S.appDeployment}]  switch the Deployment to M first, restore it afterwards\n` +
      'Examples:\n  myhero-ops loadtest capacity --lab --mode direct --storage-profile pi-sd --step 2s\n' +
      '  MYHERO_APP_KEY=SecureApp myhero-ops loadtest capacity --target http://node:30001 --max-rate 2000 --json\nSee loadtests/README.md.',
    section: 'loadtest',
    spec: {
      target: setting({ flag: '--target <url>', describe: 'myhero-app base URL [env: MYHERO_TARGET] (with --k8s: where the app is reached from here)', default: '', parse: url, env: ['MYHERO_TARGET'] }),
      metricsUrl: metricsUrlSpec,
      lab: setting({ flag: '--lab', describe: 'search the lab twin (started in --mode)', default: false, parse: bool }),
      mode: setting<AppMode | ''>({ flag: '--mode <mode>', describe: `with --lab (default direct) or --k8s (required): ${APP_MODES.join('|')}`, default: '', shown: '', parse: oneOf(APP_MODES) }),
      ...labSpec('none'),
      ...k8sSpec,
      ...keySpec,
      ...capacityLoadSpec(),
      ...capacitySpec(),
      k6Stages: setting({ flag: '--k6-stages', describe: "print the search's growth as --stages for loadtest k6-operator (k6's ramping-arrival-rate: fixed steps, no refinement) and exit", default: false, parse: bool }),
    },
    async run(cfg, ctx) {
      if (cfg.k6Stages) {
        const { search, stepMs } = capacityPlanOf(cfg);
        const stages = k6Staircase(search, stepMs);
        ctx.out(stages.map((st) => `${showMs(st.durationMs)}:${st.target}`).join(','));
        return EXIT.passed;
      }
      const ways = [cfg.lab, cfg.k8s, Boolean(cfg.target) && !cfg.k8s].filter(Boolean).length;
      if (ways !== 1) throw new UserError('choose one target: --target URL, --lab [--mode M], or --k8s --target URL --mode M', EXIT.badInput);
      if (cfg.lab) {
        const mode = cfg.mode || 'direct';
        return capacityCommand(cfg, ctx, await labProvider(cfg, ctx, mode), mode, KEYS.appDev);
      }
      const key = resolveKey(cfg, ctx.log);
      if (cfg.k8s) {
        if (!cfg.mode) throw new UserError('--k8s needs --mode direct|queue: the mode to switch the Deployment to for the search', EXIT.badInput);
        const provider = await k8sProvider(cfg, ctx);
        return provider ? capacityCommand(cfg, ctx, provider, cfg.mode, key) : EXIT.passed;
      }
      const { urlModes } = await import('./modes.ts');
      return capacityCommand(cfg, ctx, urlModes({ direct: cfg.target, queue: cfg.target }), cfg.mode || undefined, key, cfg.metricsUrl);
    },
  });

  defineCommand(group, {
    name: 'compare',
    summary: 'Direct mode vs queue mode, alternating over trials: medians, ratio, verdict; with --capacity, the capacity proof',
    help:
      'Three ways to get the two modes:\n' +
      '  --lab                          start the twin in each mode (kept across trials)\n' +
      '  --direct URL --queue URL       two deployments\n' +
      `  --k8s --target URL [--namespace NS] [--deployment ${K8S.appDeployment}]  switch myhero_app_mode on the Deployment, wait for the rollout, restore it afterwards (also on Ctrl-C or failure)\n` +
      '      behind the chaos rails: --allow-namespaces, --dry-run, the context and server printed before the first write, --force for a valueFrom variable\n' +
      'With --capacity a capacity search per mode runs before the trials, with --burst N a burst per mode after them\n' +
      '(what `demo` does). See loadtests/README.md.',
    section: 'loadtest',
    spec: {
      lab: setting({ flag: '--lab', describe: 'compare on the lab twin', default: false, parse: bool }),
      ...labSpec('none'),
      direct: setting({ flag: '--direct <url>', describe: 'myhero-app URL of a direct-mode deployment', default: '', parse: url }),
      queue: setting({ flag: '--queue <url>', describe: 'myhero-app URL of a queue-mode deployment', default: '', parse: url }),
      target: setting({ flag: '--target <url>', describe: 'with --k8s: the URL the app is reached at (NodePort, ingress, port-forward)', default: '', parse: url }),
      ...k8sSpec,
      trials: setting({ flag: '--trials <n>', describe: 'runs per mode, alternating which mode goes first', default: 3, parse: int(1, 100) }),
      ...proofSpec({ capacity: false, burst: 0 }),
      ...keySpec,
      ...loadSpec(),
      ...capacitySpec(),
    },
    async run(cfg, ctx) {
      const ways = [cfg.lab, Boolean(cfg.direct || cfg.queue), cfg.k8s].filter(Boolean).length;
      if (ways !== 1) throw new UserError('choose one way to get the two modes: --lab, --direct URL --queue URL, or --k8s --target URL', EXIT.badInput);
      if (cfg.restartErnst && !cfg.lab) throw new UserError('--restart-ernst needs --lab: only the lab twin can kill and restart ernst', EXIT.badInput);
      if (cfg.lab) return compareCommand(cfg, ctx, await labProvider(cfg, ctx), KEYS.appDev);
      const key = resolveKey(cfg, ctx.log);
      if (cfg.k8s) {
        const provider = await k8sProvider(cfg, ctx);
        return provider ? compareCommand(cfg, ctx, provider, key) : EXIT.passed;
      }
      if (!cfg.direct || !cfg.queue) throw new UserError('pass both --direct URL and --queue URL', EXIT.badInput);
      const { urlModes } = await import('./modes.ts');
      return compareCommand(cfg, ctx, urlModes({ direct: cfg.direct, queue: cfg.queue } satisfies Record<AppMode, string>), key);
    },
  });

  const s = DEMO_DEFAULTS.search;
  defineCommand(program, {
    name: 'demo',
    summary: 'Prove what queue mode buys, and what it does not: the capacity proof on the lab twin with a Pi-like data tier, in under 2 minutes',
    help:
      `Runs \`loadtest compare --lab --capacity\` on the pi-sd storage profile: a capacity search per mode (${s.stepMs / 1000} s steps from ${s.startRate}/s, ` +
      `x${s.growth}, the queue's capped at ${s.maxRate}/s so its backlog drains within the demo), ${DEMO_DEFAULTS.trials} trials alternating at ${DEMO_DEFAULTS.rate} votes/s offered ` +
      `for ${DEMO_DEFAULTS.duration / 1000} s (accepted and recorded per second, lost per trial), and a ${DEMO_DEFAULTS.burst}-vote burst per mode; thresholds ${DEMO_DEFAULTS.threshold.join(' ')}.\n` +
      '--flavour original --restart-ernst shows the original queue losing votes when ernst restarts mid-run (and the hardened one, without --flavour, not).\n' +
      'Every option of loadtest compare can be overridden. See loadtests/README.md.',
    section: 'demo',
    spec: {
      ...labSpec('pi-sd'),
      trials: setting({ flag: '--trials <n>', describe: 'runs per mode, alternating which mode goes first', default: DEMO_DEFAULTS.trials, parse: int(1, 100) }),
      ...proofSpec({ capacity: true, burst: DEMO_DEFAULTS.burst }),
      ...loadSpec(DEMO_DEFAULTS),
      ...capacitySpec(s),
    },
    run: async (cfg, ctx) => {
      // Without the searches there is no capacity ratio: the default thresholds keep lost==0 only.
      const defaults = cfg.threshold === DEMO_DEFAULTS.threshold;
      const threshold = !cfg.capacity && defaults ? cfg.threshold.filter((t) => !t.startsWith('capacity_ratio')) : cfg.threshold;
      return compareCommand({ ...cfg, threshold, key: '', keyFile: '' }, ctx, await labProvider(cfg, ctx), KEYS.appDev);
    },
  });
}
