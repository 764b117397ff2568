import type { Command } from 'commander';
import { defineCommand, defineGroup, type RunContext } from '../lib/cli.ts';
import { setting, type Resolved } from '../lib/config.ts';
import { namespaceSettings } from '../lib/kube-safety.ts';
import { K8S, KEYS, LOOPBACK, PORTS, TWIN_FLAVOURS, type AppMode, type TwinFlavour } from '../lib/defaults.ts';
import { EXIT, UserError } from '../lib/errors.ts';
import { bool, duration, int, list, number, oneOf, string, url } from '../lib/parse.ts';
import { createProgress } from '../lib/progress.ts';
import { readSecret } from '../lib/secrets.ts';
import { STORAGE, STORAGE_PROFILES, type StorageProfile } from '../lab/data/store.ts';
import type { ModeProvider } from './compare.ts';
import type { IntervalSample, RunResult } from './engine.ts';
import { registerK6Operator } from './k6operator-cli.ts';
import type { LiveMetrics } from './metrics.ts';
import { DEFAULT_MIX, HERO_DISTRIBUTIONS } from './mix.ts';
import { buildPlan, PLAN_DEFAULTS, parseHeroWeights, parseMix, parseStages, type LoadPlan } from './plan.ts';
import { describeReconciliation, type MetricsTarget } from './reconcile.ts';
import type { Stage } from './schedule.ts';
import { compareJson, compareRows, defaultReportDir, loadLine, renderCompareReport, renderRunReport, runJson, runRows, textTable, thresholdVerdict, writeReport } from './report.ts';
import { evaluateCompare, evaluateRun, parseThresholds, type ThresholdOutcome } from './thresholds.ts';

// `loadtest run`, `loadtest compare` and the top-level `demo`: settings → plan →
// run → result → report, with a live progress line, live metrics and --json.
// The engine, the lab, the Kubernetes client and prom-client are imported when a
// command runs, so --help and bad input answer without loading them.

const KEY_ENV = ['MYHERO_APP_KEY'] as const;

/** `app=URL,data=URL,ernst=URL`, or plain URLs whose series may come from any service (e.g. a Prometheus /federate). */
const parseMetricsUrls = (raw: string, name: string): MetricsTarget[] =>
  list(string)(raw, name).map((item) => {
    const m = /^(app|data|ernst)=(.+)$/.exec(item);
    if (m) return { service: m[1]!, url: url(m[2]!, name) };
    if (/^[a-z]+=/.test(item)) throw new UserError(`invalid ${name} "${raw}": expected URLs, or service=URL pairs (app, data, ernst) such as app=http://127.0.0.1:15001/metrics`, EXIT.badInput);
    return { service: 'any', url: url(item, name) };
  });

/** A duration in ms as help shows it: 30000 → 30s, 500 → 500ms. */
const showMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** The load shape, shared by run, compare and demo; `d` overrides the defaults. */
function loadSpec(d: { voters?: number; duration?: number; drainTimeout?: number; threshold?: string[]; think?: number } = {}) {
  return {
    voters: setting({ flag: '--voters <n>', describe: 'closed model: concurrent voters, each voting as soon as its previous answer came', default: d.voters ?? PLAN_DEFAULTS.voters, parse: int(0, 100_000) }),
    think: setting({ flag: '--think <duration>', describe: 'closed model: pause of each voter between an answer and its next vote', default: d.think ?? 0, shown: showMs(d.think ?? 0), parse: duration }),
    rate: setting({ flag: '--rate <n>', describe: 'open model: requests per second on a fixed schedule (latency corrected for coordinated omission); 0 = closed model', default: 0, parse: number(0, 1_000_000) }),
    connections: setting({ flag: '--connections <n>', describe: 'open model: connections to send from (default: the rate, 10–1000)', default: 0, shown: '', parse: int(0, 100_000) }),
    duration: setting({ flag: '--duration <duration>', describe: 'length of the load, e.g. 30s, 2m', default: d.duration ?? PLAN_DEFAULTS.durationMs, shown: showMs(d.duration ?? PLAN_DEFAULTS.durationMs), parse: duration }),
    warmup: setting({ flag: '--warmup <duration>', describe: 'first part of the load excluded from rates and latency (its votes still count in reconciliation)', default: 0, shown: '', parse: duration }),
    stages: setting({ flag: '--stages <list>', describe: 'ramp/hold/ramp-down as duration:target pairs, e.g. 10s:50,30s:50,10s:0 (target = voters, or requests/s with --rate)', default: [] as Stage[], shown: '', parse: parseStages }),
    mix: setting({ flag: '--mix <weights>', describe: 'request mix', default: DEFAULT_MIX, shown: `vote=${DEFAULT_MIX.vote},results=${DEFAULT_MIX.results},options=${DEFAULT_MIX.options}`, parse: parseMix }),
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

function resolveKey(cfg: { key: string; keyFile: string }): string {
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

/**
 * 130 stopped by Ctrl-C; 3 the run could not be judged (the target went away mid-run, the final
 * read failed, or a threshold's figure is unknown, e.g. `lost` of a drain that did not settle);
 * 1 a threshold failed; else 0.
 */
export function exitCode(partial: boolean, outcomes: readonly ThresholdOutcome[], runs: readonly RunResult[]): number {
  if (partial) return EXIT.interrupted;
  if (runs.some((r) => r.unjudged || r.unsettledBy === 'read') || outcomes.some((o) => o.unknown)) return EXIT.unjudged;
  return outcomes.some((o) => !o.ok) ? EXIT.failed : EXIT.passed;
}

/** Why the exit code is 3, in lines for the terminal. */
const unjudgedLines = (runs: readonly { label: string; r: RunResult }[]) =>
  runs.flatMap(({ label, r }) => [
    ...(r.unjudged ? [`NOT JUDGED (${label}): ${r.unjudged}`] : []),
    ...(r.unsettledBy === 'read' ? [`NOT JUDGED (${label}): ${r.reason}`] : []),
  ]);

async function runCommand(cfg: LoadSettings & { target: string; metricsUrl: MetricsTarget[]; key: string; keyFile: string }, ctx: RunContext): Promise<number> {
  const thresholds = checkThresholds(cfg.threshold);
  if (thresholds.some((t) => t.metric === 'ratio' || t.mode)) throw new UserError('--threshold: ratio and direct./queue. thresholds belong to loadtest compare', EXIT.badInput);
  const key = resolveKey(cfg);
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
    report(ctx, cfg.json, runJson(result, outcomes), textTable(runRows(result)), lines, dir, outcomes);
    return exitCode(result.partial, outcomes, [result]);
  } finally {
    view.done();
    await metrics.close();
  }
}

type CompareSettings = LoadSettings & { trials: number; key: string; keyFile: string };

async function compareCommand(cfg: CompareSettings, ctx: RunContext, provider: ModeProvider, key: string): Promise<number> {
  const thresholds = checkThresholds(cfg.threshold);
  const { target: _t, ...plan } = planOf(cfg, 'http://placeholder.invalid', key);
  const [{ runCompare }, { startLiveMetrics }] = await Promise.all([import('./compare.ts'), import('./metrics.ts')]);
  const metrics = await startLiveMetrics(cfg.metricsHost, cfg.metricsPort);
  const view = liveView(ctx, metrics, cfg.json);
  try {
    const { result, runs } = await runCompare(plan, provider, {
      trials: cfg.trials,
      signal: ctx.signal,
      log: ctx.log,
      onRunStart: (trial, mode) => view.start(`trial ${trial}/${cfg.trials} ${mode}`),
      onSample: (mode, s) => view.sample(mode, s),
      onDrain: (mode, r, b, e) => view.drain(mode, r, b, e),
      onRunEnd: ({ trial, mode, result: r }) => view.runEnd(trial, mode, r),
    });
    view.done();
    const outcomes = evaluateCompare(thresholds, result.modes, result.ratio ?? Infinity);
    const dir = cfg.out || defaultReportDir();
    writeReport(dir, renderCompareReport(result, runs, outcomes), [key]);
    const profile = result.conditions.storageProfile;
    const lines = [
      ...(profile === 'pi-sd'
        ? [`storage profile: pi-sd in use (the lab's data tier emulates a Raspberry Pi SD card: one synced vote at a time, ${STORAGE['pi-sd'].syncLatencyMs} ms each)`]
        : []),
      `ratio (queue/direct accepted votes/s): ${result.ratio ?? 'n/a'}`,
      `verdict: ${result.verdict}`,
      ...unjudgedLines(runs.map((r) => ({ label: `trial ${r.trial} ${r.mode}`, r: r.result }))),
    ];
    report(ctx, cfg.json, compareJson(result, outcomes), textTable(compareRows(result)), lines, dir, outcomes);
    return exitCode(
      result.partial,
      outcomes,
      runs.map((r) => r.result),
    );
  } finally {
    view.done();
    await metrics.close();
  }
}

async function labProvider(cfg: { storageProfile: StorageProfile; flavour: TwinFlavour }, ctx: RunContext): Promise<ModeProvider> {
  const { labModes } = await import('./modes.ts');
  ctx.log.info(cfg, `starting the lab twin in direct and queue mode (storage profile ${cfg.storageProfile}, flavour ${cfg.flavour})`);
  return labModes(cfg);
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

/** Demo defaults: a Pi-like data tier saturated by direct mode, a queue that drains within the budget, < 2 min on 2 cores. */
export const DEMO_DEFAULTS = { voters: 60, think: 500, duration: 5_000, trials: 3, drainTimeout: 30_000, threshold: ['lost==0', 'ratio>1'] };

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
      metricsUrl: setting({
        flag: '--metrics-url <list>',
        describe: "the services' /metrics, as app=URL,data=URL,ernst=URL (or plain URLs, e.g. a Prometheus /federate): queue backlog, and ernst's state to tell a stalled consumer from a loss",
        default: [] as MetricsTarget[],
        shown: '',
        parse: parseMetricsUrls,
      }),
      ...keySpec,
      ...loadSpec(),
    },
    run: (cfg, ctx) => runCommand(cfg, ctx),
  });

  registerK6Operator(group);

  defineCommand(group, {
    name: 'compare',
    summary: 'Direct mode vs queue mode, alternating over trials: medians, ratio, verdict',
    help:
      'Three ways to get the two modes:\n' +
      '  --lab                          start the twin in each mode (fresh per run)\n' +
      '  --direct URL --queue URL       two deployments\n' +
      `  --k8s --target URL [--namespace NS] [--deployment ${K8S.appDeployment}]  switch myhero_app_mode on the Deployment, wait for the rollout, restore it afterwards (also on Ctrl-C or failure)\n` +
      '      behind the chaos rails: --allow-namespaces, --dry-run, the context and server printed before the first write, --force for a valueFrom variable\n' +
      'See loadtests/README.md.',
    section: 'loadtest',
    spec: {
      lab: setting({ flag: '--lab', describe: 'compare on the lab twin', default: false, parse: bool }),
      ...labSpec('none'),
      direct: setting({ flag: '--direct <url>', describe: 'myhero-app URL of a direct-mode deployment', default: '', parse: url }),
      queue: setting({ flag: '--queue <url>', describe: 'myhero-app URL of a queue-mode deployment', default: '', parse: url }),
      k8s: setting({ flag: '--k8s', describe: 'switch one Deployment between the modes through the Kubernetes API', default: false, parse: bool }),
      target: setting({ flag: '--target <url>', describe: 'with --k8s: the URL the app is reached at (NodePort, ingress, port-forward)', default: '', parse: url }),
      namespace: setting({ flag: '--namespace <ns>', describe: 'with --k8s: namespace of the Deployment', default: K8S.defaultNamespace as string, parse: string }),
      deployment: setting({ flag: '--deployment <name>', describe: 'with --k8s: the myhero-app Deployment', default: K8S.appDeployment as string, parse: string }),
      container: setting({ flag: '--container <name>', describe: 'with --k8s: container whose env to set (default: the first)', default: '', parse: string }),
      kubeconfig: setting({ flag: '--kubeconfig <file>', describe: 'with --k8s: kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)', default: '', parse: string }),
      context: setting({ flag: '--context <name>', describe: 'with --k8s: kubeconfig context', default: '', parse: string }),
      rolloutTimeout: setting({ flag: '--rollout-timeout <duration>', describe: 'with --k8s: how long to wait for each rollout', default: 120_000, shown: '2m', parse: duration }),
      ...namespaceSettings,
      dryRun: setting({ flag: '--dry-run', describe: 'with --k8s: read the Deployment, print what would change, change nothing, send no load', default: false, parse: bool }),
      force: setting({ flag: '--force', describe: 'with --k8s: switch myhero_app_mode even when it comes from a ConfigMap or Secret (valueFrom; restored afterwards)', default: false, parse: bool }),
      trials: setting({ flag: '--trials <n>', describe: 'runs per mode, alternating which mode goes first', default: 3, parse: int(1, 100) }),
      ...keySpec,
      ...loadSpec(),
    },
    async run(cfg, ctx) {
      const ways = [cfg.lab, Boolean(cfg.direct || cfg.queue), cfg.k8s].filter(Boolean).length;
      if (ways !== 1) throw new UserError('choose one way to get the two modes: --lab, --direct URL --queue URL, or --k8s --target URL', 2);
      if (cfg.lab) return compareCommand(cfg, ctx, await labProvider(cfg, ctx), KEYS.appDev);
      const key = resolveKey(cfg);
      if (cfg.k8s) {
        if (!cfg.target) throw new UserError('--k8s needs --target URL: where the myhero-app Service is reached from here', 2);
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
        if (cfg.dryRun) return 0;
        return compareCommand(cfg, ctx, k8s.provider(), key);
      }
      if (!cfg.direct || !cfg.queue) throw new UserError('pass both --direct URL and --queue URL', 2);
      const { urlModes } = await import('./modes.ts');
      return compareCommand(cfg, ctx, urlModes({ direct: cfg.direct, queue: cfg.queue } satisfies Record<AppMode, string>), key);
    },
  });

  defineCommand(program, {
    name: 'demo',
    summary: 'Prove what queue mode buys: direct vs queue on the lab twin with a Pi-like data tier, in under 2 minutes',
    help:
      `Runs \`loadtest compare --lab\` with ${DEMO_DEFAULTS.voters} voters (think ${DEMO_DEFAULTS.think} ms), ${DEMO_DEFAULTS.duration / 1000} s per run, ${DEMO_DEFAULTS.trials} trials, ` +
      `the pi-sd storage profile, and the thresholds ${DEMO_DEFAULTS.threshold.join(' ')}.\nEvery option of loadtest compare's load shape can be overridden. See loadtests/README.md.`,
    section: 'demo',
    spec: {
      ...labSpec('pi-sd'),
      trials: setting({ flag: '--trials <n>', describe: 'runs per mode, alternating which mode goes first', default: DEMO_DEFAULTS.trials, parse: int(1, 100) }),
      ...loadSpec(DEMO_DEFAULTS),
    },
    run: async (cfg, ctx) => compareCommand({ ...cfg, key: '', keyFile: '' }, ctx, await labProvider(cfg, ctx), KEYS.appDev),
  });
}
