import type { Command } from 'commander';
import { defineCommand, defineGroup, type RunContext } from '../lib/cli.ts';
import { setting, type Resolved } from '../lib/config.ts';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import { createGrafanaClient, readCaFile, readGrafanaAuth, type GrafanaClient } from '../lib/grafana-client.ts';
import { connectKube, isNotFound, type Kube } from '../lib/kube.ts';
import { checkNamespace, connectionLine, namespaceSettings } from '../lib/kube-safety.ts';
import { bool, duration, int, list, number, string, url, type Parser } from '../lib/parse.ts';
import { createProgress } from '../lib/progress.ts';
import { KEY_ON_COMMAND_LINE, keyOnCommandLine, readSecret } from '../lib/secrets.ts';
import { secs } from './context.ts';
import { GAMEDAY_DEFAULTS as D, MIN_INTERVAL_MS } from './defaults.ts';
import { loadGameday } from './experiment.ts';
import type { JournalData, JournalListener, Sample } from './journal.ts';
import { cleanupLeftovers } from './cleanup.ts';
import { ISTIO_GROUP } from './mesh.ts';
import type { Plan, Step } from './plan.ts';
import { checkInventory, formatFindings, readInventory } from './preflight.ts';
import { outcomeText, pushAnnotations, verdictLine, writeReports } from './report.ts';
import { runPlan } from './run.ts';
import { STEPS, type StepKind } from './steps/index.ts';

// `myhero-ops chaos ...`: flags → plan → run → journal + report. Every command
// takes --namespace (required, allowlisted), --dry-run and the kubeconfig flags.
// Everything a command was given is checked before its first cluster call.

/** Durations stay text as written (so --help shows "2s") and are checked when read, against a lower bound; ms() converts. */
const durationText =
  (minMs = 0): Parser<string> =>
  (raw, name) => {
    const v = duration(raw, name);
    if (v < minMs) throw new UserError(`invalid ${name} "${raw}": expected at least ${minMs >= 1000 ? `${minMs / 1000}s` : `${minMs}ms`} (a shorter interval hammers the API server)`, EXIT.badInput);
    return raw.trim();
  };
const ms = (text: string): number => duration(text, 'duration');

const connection = {
  namespace: setting({ flag: '-n, --namespace <ns>', describe: 'namespace to act in (required; checked against the allowlist)', default: '', parse: string }),
  kubeconfig: setting({ flag: '--kubeconfig <file>', describe: 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)', default: '', parse: string }),
  context: setting({ flag: '--context <name>', describe: 'kubeconfig context (default: its current-context)', default: '', parse: string }),
  ...namespaceSettings,
  json: setting({ flag: '--json', describe: 'print the result as JSON on stdout', default: false, parse: bool }),
};

/** Node actions only: the one override they have. */
const allowControlPlane = setting({
  flag: '--allow-control-plane',
  describe: 'allow taking down a control-plane node (on k3s it serves the API this tool uses)',
  default: false,
  parse: bool,
});

const running = {
  ...connection,
  dryRun: setting({ flag: '--dry-run', describe: 'read the cluster and print every action it would take; change nothing', default: false, parse: bool }),
  out: setting({ flag: '--out <dir>', describe: 'directory for journal.json, report.md and report.html (default: reports/chaos/<time>-<command>)', default: '', parse: string }),
  poll: setting({ flag: '--poll <duration>', describe: `how often waits poll the API (at least ${MIN_INTERVAL_MS.poll}ms)`, default: '2s', parse: durationText(MIN_INTERVAL_MS.poll) }),
  sample: setting({
    flag: '--sample <duration>',
    describe: `how often the timeline is sampled and events collected (at least ${MIN_INTERVAL_MS.sample}ms)`,
    default: '5s',
    parse: durationText(MIN_INTERVAL_MS.sample),
  }),
  timeout: setting({ flag: '--timeout <duration>', describe: 'limit for the whole run; rollbacks still run after it', default: '30m', parse: durationText(1) }),
  rollbackTimeout: setting({ flag: '--rollback-timeout <duration>', describe: 'limit for each rollback', default: '5m', parse: durationText(1) }),
  grafanaUrl: setting({ flag: '--grafana-url <url>', describe: 'push the actions as Grafana annotations (tag chaos) to this Grafana', default: '', parse: url, env: ['GRAFANA_URL'] }),
  grafanaTokenFile: setting({ flag: '--grafana-token-file <file>', describe: 'file holding a Grafana service-account token (or env GRAFANA_TOKEN)', default: '', parse: string }),
  grafanaBasicAuthFile: setting({ flag: '--grafana-basic-auth-file <file>', describe: 'file holding user:password for Grafana basic auth', default: '', parse: string }),
  grafanaCaFile: setting({ flag: '--grafana-ca-file <file>', describe: "PEM CA bundle to trust for Grafana's https certificate", default: '', parse: string }),
};

type Common = Resolved<typeof running>;

/** Check the namespace against the rules and load the kubeconfig: no API call yet. */
function connect(cfg: Resolved<typeof connection>): { kube: Kube; namespace: string } {
  const namespace = checkNamespace(cfg.namespace, { allowed: cfg.allowNamespaces, allowSystem: cfg.allowSystemNamespaces });
  const kube = connectKube({ kubeconfig: cfg.kubeconfig || undefined, context: cfg.context || undefined });
  return { kube, namespace };
}

/** The namespace must exist: a typo should not become "no pods matched". Other failures could not be judged. */
async function assertNamespace(kube: Kube, namespace: string): Promise<void> {
  await kube.getNamespace(namespace).catch((err: unknown) => {
    if (isNotFound(err)) throw new UserError(`namespace "${namespace}": ${describeError(err)}`, EXIT.badInput);
    throw err;
  });
}

/** The Grafana client for annotations, when --grafana-url is given; credentials are checked before the run. */
function grafanaOf(cfg: Common, signal: AbortSignal): GrafanaClient | undefined {
  if (!cfg.grafanaUrl) return undefined;
  const auth = readGrafanaAuth({
    tokenFile: cfg.grafanaTokenFile,
    basicAuthFile: cfg.grafanaBasicAuthFile,
    flags: { token: '--grafana-token-file', basic: '--grafana-basic-auth-file' },
  });
  if (!auth) throw new UserError('--grafana-url needs credentials: --grafana-token-file FILE, GRAFANA_TOKEN, or --grafana-basic-auth-file FILE', EXIT.badInput);
  return createGrafanaClient({
    url: cfg.grafanaUrl,
    auth,
    ca: cfg.grafanaCaFile ? readCaFile(cfg.grafanaCaFile) : undefined,
    caFlag: '--grafana-ca-file',
    timeoutMs: 10_000,
    signal,
  });
}

function outDir(cfg: Common, command: string): string {
  if (cfg.out) return cfg.out;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `reports/chaos/${stamp}-${command}`;
}

async function execute(plan: Plan, cfg: Common & { allowControlPlane?: boolean }, ctx: RunContext, kube: Kube, loadKey?: string): Promise<number> {
  const grafana = grafanaOf(cfg, ctx.signal);
  await assertNamespace(kube, plan.namespace);
  const say = cfg.json ? (line: string) => process.stderr.write(`${line}\n`) : ctx.out;
  const progress = createProgress(ctx.log, { label: plan.title });
  const listener: JournalListener = (kind, e) => {
    if (kind === 'sample') {
      const s = e as Sample;
      const fields: Record<string, string | number> = { t: `${Math.round(s.t / 1000)}s` };
      if (s.readyReplicas !== undefined) fields.ready = s.readyReplicas;
      if (s.hpaReplicas !== undefined) fields.hpa = `${s.hpaReplicas}/${s.hpaDesiredReplicas ?? '?'}`;
      if (s.errorRate !== undefined) fields.errors = `${(s.errorRate * 100).toFixed(1)}%`;
      progress.update(fields);
    } else {
      progress.done();
      ctx.log.info({ [kind]: e }, kind);
    }
  };
  const journal = await runPlan(plan, {
    listener,
    kube,
    log: ctx.log,
    signal: ctx.signal,
    dryRun: cfg.dryRun,
    allowControlPlane: cfg.allowControlPlane ?? false,
    pollMs: ms(cfg.poll),
    sampleMs: ms(cfg.sample),
    timeoutMs: ms(cfg.timeout),
    rollbackTimeoutMs: ms(cfg.rollbackTimeout),
    say,
    loadKey,
  });
  progress.done();
  const paths = writeReports(journal, outDir(cfg, plan.command.split(' ')[0]!));
  let annotations: number | undefined;
  if (grafana && !cfg.dryRun) {
    annotations = await pushAnnotations(journal, grafana).catch((err: unknown) => {
      ctx.log.warn({ err: grafana.scrub(describeError(err)) }, 'Grafana annotations not pushed');
      return undefined;
    });
  }
  report(journal, paths, cfg, ctx, annotations);
  return journal.exitCode ?? EXIT.unjudged;
}

function report(j: JournalData, paths: Record<string, string>, cfg: Common, ctx: RunContext, annotations?: number): void {
  if (cfg.json) {
    ctx.out(JSON.stringify({ status: j.status, exitCode: j.exitCode, verdict: verdictLine(j), verdicts: j.verdicts, measurements: j.measurements, error: j.error, reports: paths, annotations }));
    return;
  }
  ctx.out('');
  for (const v of j.verdicts) ctx.out(`${outcomeText(v)}  ${v.name}: ${v.reason}`);
  for (const r of j.rollbacks.filter((x) => !x.ok)) ctx.out(`NOT RESTORED: ${r.name} (${r.error}); restore by hand: ${r.command}`);
  for (const [k, v] of Object.entries(j.measurements)) ctx.out(`      ${k}: ${k.endsWith('Ms') ? `${(v / 1000).toFixed(2)} s` : v}`);
  ctx.out(verdictLine(j));
  ctx.out(`journal ${paths.journal}, report ${paths.html}${annotations !== undefined ? `, ${annotations} Grafana annotation(s)` : ''}`);
}

function nodeOf(node: string, random: boolean): string {
  if (!!node === random) throw new UserError('pass exactly one of --node NAME or --random', EXIT.badInput);
  return node || 'random';
}

/** The flag that sets a step field, where it is not `--<field-in-kebab-case>`. */
const FLAG_OF: Record<string, string> = { every: '--interval', for: '--duration' };

/**
 * A command's step, checked by the same schema as a game-day file's, so a flag
 * and a file field accept exactly the same values; a mistake names the flag.
 */
function stepFromFlags(kind: StepKind, body: Record<string, unknown>): Step {
  const defined = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = STEPS.get(kind).schema.safeParse(defined);
  if (parsed.success) return { kind, spec: parsed.data } as Step;
  const issue = parsed.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const flag = FLAG_OF[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  throw new UserError(`${field ? flag : kind}: ${issue.message}`, EXIT.badInput);
}

/** A one-step command: its flags through the step's schema, then the same run as a game day of that one step. */
function runStep(kind: StepKind, title: string, body: Record<string, unknown>, cfg: Common & { allowControlPlane?: boolean }, ctx: RunContext): Promise<number> {
  const step = stepFromFlags(kind, body);
  const { kube, namespace } = connect(cfg);
  const plan: Plan = { title, command: kind, namespace, observe: {}, steadyState: [], steadyStateRecoveryMs: 0, method: [step], probes: [] };
  return execute(plan, cfg, ctx, kube);
}

export function registerChaos(program: Command): void {
  const chaos = defineGroup(program, 'chaos', 'Game days against Kubernetes: preflight, pod-kill, node-drain, node-kill, http-fault, gameday, cleanup (rollbacks always run)');

  defineCommand(chaos, {
    name: 'preflight',
    summary: 'Check the myhero workloads for what a game day would expose (probes, CPU requests, replicas, HPA, PDBs)',
    help: 'Reads Deployments, HPAs and PDBs (read-only) and reports each problem with its reason and fix. Exit code 1 when any check fails.\n\nExample: myhero-ops chaos preflight -n default',
    section: 'chaos',
    spec: { ...connection, selector: setting({ flag: '--selector <labels>', describe: 'label selector of the myhero Deployments', default: 'app=myhero', parse: string }) },
    async run(cfg, ctx) {
      const { kube, namespace } = connect(cfg);
      await assertNamespace(kube, namespace);
      const findings = checkInventory(await readInventory(kube, namespace, cfg.selector));
      if (cfg.json) ctx.out(JSON.stringify({ namespace, findings }));
      else ctx.out(formatFindings(findings));
      return findings.some((f) => f.severity === 'fail') ? 1 : 0;
    },
  });

  defineCommand(chaos, {
    name: 'pod-kill',
    summary: 'Delete pods chosen at random among a selector (--count N or --percent P), once or repeatedly',
    help: 'Example: myhero-ops chaos pod-kill -n default --selector tier=app --count 1 --grace 0 --interval 15s --duration 2m\n\nAfter the last kill it waits (--recover-within) for the selector to have its Ready pods back and reports how long that took.',
    section: 'chaos',
    spec: {
      ...running,
      selector: setting({ flag: '--selector <labels>', describe: 'label selector of the pods to choose from, e.g. tier=app (required)', default: '', parse: string }),
      count: setting({ flag: '--count <n>', describe: 'kill this many pods per round', default: undefined as number | undefined, parse: int(1, 1000) }),
      percent: setting({ flag: '--percent <p>', describe: 'kill this percentage of the pods per round (rounded down)', default: undefined as number | undefined, parse: number(1, 100) }),
      grace: setting({ flag: '--grace <seconds>', describe: "delete grace period (default: the pod's own)", default: undefined as number | undefined, parse: int(0, 3600) }),
      interval: setting({
        flag: '--interval <duration>',
        describe: `repeat a round this often (with --duration; at least ${MIN_INTERVAL_MS.podKillEvery / 1000}s)`,
        default: undefined as string | undefined,
        parse: durationText(),
      }),
      duration: setting({ flag: '--duration <duration>', describe: 'keep repeating for this long (with --interval)', default: undefined as string | undefined, parse: durationText() }),
      recoverWithin: setting({ flag: '--recover-within <duration>', describe: 'wait this long for the pods to be Ready again (0 = do not wait)', default: '2m', parse: durationText() }),
    },
    async run(cfg, ctx) {
      if (!cfg.selector) throw new UserError('--selector is required (e.g. --selector tier=app)', EXIT.badInput);
      if ((cfg.interval === undefined) !== (cfg.duration === undefined)) throw new UserError('--interval and --duration go together', EXIT.badInput);
      if ((cfg.count === undefined) === (cfg.percent === undefined)) throw new UserError('pass exactly one of --count N or --percent P', EXIT.badInput);
      return runStep('pod-kill', `pod-kill ${cfg.selector}`, {
        selector: cfg.selector,
        count: cfg.count,
        percent: cfg.percent,
        grace: cfg.grace,
        every: cfg.interval,
        for: cfg.duration,
        recoverWithin: cfg.recoverWithin,
      }, cfg, ctx);
    },
  });

  defineCommand(chaos, {
    name: 'node-drain',
    summary: 'Cordon a node and evict its pods through the Eviction API (PDBs respected, 429s retried); uncordon on rollback',
    help: 'Example: myhero-ops chaos node-drain -n default --random --hold 1m\n\nOnly pods of --namespace are evicted; DaemonSet and static pods are left alone, as kubectl drain does.',
    section: 'chaos',
    spec: {
      ...running,
      node: setting({ flag: '--node <name>', describe: 'node to drain', default: '', parse: string }),
      random: setting({ flag: '--random', describe: 'drain a random Ready worker (never the last Ready node)', default: false, parse: bool }),
      evictionTimeout: setting({ flag: '--eviction-timeout <duration>', describe: 'give up on a pod a PDB keeps protecting after this long', default: secs(D.evictionTimeoutMs), parse: durationText() }),
      retry: setting({
        flag: '--retry <duration>',
        describe: `wait between retries of a refused (429) eviction (at least ${MIN_INTERVAL_MS.evictionRetry}ms)`,
        default: secs(D.evictionRetryMs),
        parse: durationText(),
      }),
      hold: setting({ flag: '--hold <duration>', describe: 'keep the node drained this long before the rollback uncordons it', default: '0s', parse: durationText() }),
      grace: setting({ flag: '--grace <seconds>', describe: "eviction grace period (default: the pod's own)", default: undefined as number | undefined, parse: int(0, 3600) }),
      allowControlPlane,
    },
    async run(cfg, ctx) {
      const node = nodeOf(cfg.node, cfg.random);
      return runStep('node-drain', `node-drain ${node}`, { node, evictionTimeout: cfg.evictionTimeout, retry: cfg.retry, hold: cfg.hold, grace: cfg.grace }, cfg, ctx);
    },
  });

  defineCommand(chaos, {
    name: 'node-kill',
    summary: 'Hard node loss through your hook; measures time to NotReady, to pods Ready elsewhere, to service whole',
    help: "Example: myhero-ops chaos node-kill -n default --random --exec 'ssh pi@{node} sudo systemctl stop k3s-agent' --restore 'ssh pi@{node} sudo systemctl start k3s-agent'\n\n{node} is replaced by the node name. The restore hook runs as a rollback (success, failure, timeout, Ctrl-C) and waits for the node to be Ready again.",
    section: 'chaos',
    spec: {
      ...running,
      node: setting({ flag: '--node <name>', describe: 'node to take down', default: '', parse: string }),
      random: setting({ flag: '--random', describe: 'a random Ready worker (never the last Ready node, never a control-plane node)', default: false, parse: bool }),
      exec: setting({ flag: '--exec <command>', describe: 'shell command that stops the node ({node} = its name) (required)', default: '', parse: string }),
      restore: setting({ flag: '--restore <command>', describe: 'shell command that brings it back (required)', default: '', parse: string }),
      selector: setting({ flag: '--selector <labels>', describe: 'Deployments whose full availability means "service whole"', default: D.nodeKillSelector, parse: string }),
      notReadyTimeout: setting({ flag: '--not-ready-timeout <duration>', describe: 'how long Kubernetes may take to see the node NotReady', default: secs(D.nodeNotReadyTimeoutMs), parse: durationText() }),
      recoverTimeout: setting({
        flag: '--recover-timeout <duration>',
        describe: 'how long pods may take to be Ready elsewhere (default covers the 300 s unreachable toleration)',
        default: secs(D.nodeRecoverTimeoutMs),
        parse: durationText(),
      }),
      hookTimeout: setting({ flag: '--hook-timeout <duration>', describe: 'limit for each hook command (its whole process group is stopped)', default: secs(D.hookTimeoutMs), parse: durationText() }),
      allowControlPlane,
    },
    async run(cfg, ctx) {
      const node = nodeOf(cfg.node, cfg.random);
      if (!cfg.exec || !cfg.restore) throw new UserError('--exec and --restore are both required (the restore hook is the rollback)', EXIT.badInput);
      return runStep('node-kill', `node-kill ${node}`, {
        node,
        exec: cfg.exec,
        restore: cfg.restore,
        selector: cfg.selector,
        notReadyTimeout: cfg.notReadyTimeout,
        recoverTimeout: cfg.recoverTimeout,
        hookTimeout: cfg.hookTimeout,
      }, cfg, ctx);
    },
  });

  defineCommand(chaos, {
    name: 'http-fault',
    summary: "Inject an HTTP abort or delay into a Service's traffic through Istio for a while; measured, and always removed",
    help:
      'Example: myhero-ops chaos http-fault -n default --service myhero-app --abort 500 --percent 50 --duration 2m --url http://ingress/health\n\n' +
      "Patches the VirtualService(s) routing the Service (their HTTP routes get Istio's fault), or creates one when none does; " +
      'after --duration the original is restored exactly (or the created one deleted), on success, failure, timeout and Ctrl-C. ' +
      'With --url the step measures its own GETs of that URL and judges whether the share of faulted requests matches --percent; ' +
      'without one, nothing is measured (the verdicts are not observed). Needs Istio with sidecar injection (checked first).',
    section: 'chaos',
    spec: {
      ...running,
      service: setting({ flag: '--service <name>', describe: 'the Service whose traffic gets the fault (required)', default: '', parse: string }),
      abort: setting({ flag: '--abort <status>', describe: 'abort requests with this HTTP status, e.g. 500', default: undefined as number | undefined, parse: int(200, 599) }),
      delay: setting({ flag: '--delay <duration>', describe: 'delay requests by this much, e.g. 5s', default: undefined as string | undefined, parse: durationText(1) }),
      percent: setting({ flag: '--percent <p>', describe: 'share of requests that get the fault (default 100)', default: undefined as number | undefined, parse: number(0.01, 100) }),
      duration: setting({ flag: '--duration <duration>', describe: 'how long the fault stays', default: secs(D.httpFaultDurationMs), parse: durationText(1000) }),
      settle: setting({ flag: '--settle <duration>', describe: 'how long the mesh may take to apply or remove it (left out of the verdicts)', default: secs(D.httpFaultSettleMs), parse: durationText() }),
      recovery: setting({ flag: '--recovery <duration>', describe: 'how long to watch after the fault is removed', default: secs(D.httpFaultRecoveryMs), parse: durationText(1000) }),
      url: setting({ flag: '--url <url>', describe: "measure with GETs of this URL (through the mesh: the ingress gateway's address)", default: '', parse: url }),
      rate: setting({ flag: '--rate <n>', describe: 'GETs per second of --url', default: D.httpFaultSampleRate, parse: number(0.1, 50) }),
    },
    async run(cfg, ctx) {
      if (!cfg.service) throw new UserError('--service is required (e.g. --service myhero-app)', EXIT.badInput);
      if ((cfg.abort === undefined) === (cfg.delay === undefined)) throw new UserError('pass exactly one of --abort STATUS or --delay DURATION', EXIT.badInput);
      return runStep('http-fault', `http-fault ${cfg.service}`, {
        service: cfg.service,
        abort: cfg.abort,
        delay: cfg.delay,
        percent: cfg.percent,
        duration: cfg.duration,
        settle: cfg.settle,
        recovery: cfg.recovery,
        url: cfg.url,
        rate: cfg.url ? cfg.rate : undefined,
      }, cfg, ctx);
    },
  });

  defineCommand(chaos, {
    name: 'cleanup',
    summary: 'Find and undo what interrupted runs left (VirtualServices an http-fault created or changed)',
    help: 'Example: myhero-ops chaos cleanup -n default --dry-run\n\nObjects are found by the label myhero-ops/chaos-run: created ones are deleted, changed ones get back the spec saved in their annotation.',
    section: 'chaos',
    spec: { ...connection, dryRun: setting({ flag: '--dry-run', describe: 'list the leftovers; change nothing', default: false, parse: bool }) },
    async run(cfg, ctx) {
      const { kube, namespace } = connect(cfg);
      await assertNamespace(kube, namespace);
      if (cfg.json) process.stderr.write(`${connectionLine(kube, namespace)}\n`);
      else ctx.out(connectionLine(kube, namespace));
      const found = await cleanupLeftovers(kube, namespace, { dryRun: cfg.dryRun, signal: ctx.signal });
      const leftovers = found === 'no istio' ? [] : found;
      const failed = leftovers.filter((l) => l.error);
      if (cfg.json) ctx.out(JSON.stringify({ namespace, istio: found !== 'no istio', leftovers }));
      else if (found === 'no istio') ctx.out(`Istio is not installed (no ${ISTIO_GROUP} API): no VirtualServices to clean up`);
      else if (!leftovers.length) ctx.out(`no leftovers of chaos runs in namespace ${namespace}`);
      else for (const l of leftovers) ctx.out(`${l.error ? `FAILED (${l.action.replace(/d$/, '')})` : l.action} ${l.object} (chaos run ${l.run})${l.error ? `: ${l.error}` : ''}`);
      return failed.length ? EXIT.unjudged : EXIT.passed;
    },
  });

  defineCommand(chaos, {
    name: 'gameday',
    summary: 'Run a game-day experiment file: steady state, load, chaos method, rollbacks, verdicts',
    help: 'Example: myhero-ops chaos gameday chaos/experiments/hpa.yaml -n default --set MYHERO_APP_URL=http://myhero.local\n\nSee chaos/README.md for the file format. ${NAME:-default} in the file is filled from --set, then the environment.',
    args: ['<file>'],
    section: 'chaos',
    spec: {
      ...running,
      set: setting({ flag: '--set <pairs>', describe: 'NAME=VALUE,... for ${NAME} in the file', default: [] as string[], parse: list(string) }),
      key: setting({
        flag: '--key <key>',
        describe: 'myhero-app key for the load (visible in the process list: prefer --key-file or MYHERO_APP_KEY)',
        default: '',
        parse: string,
        env: ['MYHERO_APP_KEY'],
        secret: true,
      }),
      keyFile: setting({ flag: '--key-file <file>', describe: 'file holding the myhero-app key', default: '', parse: string }),
      allowControlPlane,
    },
    async run(cfg, ctx, args) {
      const vars: Record<string, string> = {};
      for (const pair of cfg.set) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
        if (!m) throw new UserError(`invalid --set "${pair}": expected NAME=VALUE`, EXIT.badInput);
        vars[m[1]!] = m[2]!;
      }
      // The whole file, the namespace and the secrets are checked before the first cluster call.
      const plan = loadGameday(args[0]!, { namespace: cfg.namespace || undefined, vars });
      if (keyOnCommandLine(process.argv)) ctx.log.warn(KEY_ON_COMMAND_LINE);
      const key = readSecret({ value: cfg.key || undefined, file: cfg.keyFile || undefined, what: 'myhero-app key' });
      if (plan.load && !key) throw new UserError(`${args[0]}: the experiment has a load section but no myhero-app key: pass --key-file or set MYHERO_APP_KEY`, EXIT.badInput);
      const { kube, namespace } = connect({ ...cfg, namespace: plan.namespace });
      return execute({ ...plan, namespace }, cfg, ctx, kube, key);
    },
  });
}
