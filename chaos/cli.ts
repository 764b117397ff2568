import type { Command } from 'commander';
import { defineCommand, defineGroup, type RunContext } from '../lib/cli.ts';
import { setting, type Resolved } from '../lib/config.ts';
import { UserError, describeError } from '../lib/errors.ts';
import { connectKube, type Kube } from '../lib/kube.ts';
import { bool, duration, int, list, number, string, url, type Parser } from '../lib/parse.ts';
import { createProgress } from '../lib/progress.ts';
import { readSecret } from '../lib/secrets.ts';
import { GAMEDAY_DEFAULTS, loadGameday } from './experiment.ts';
import type { JournalData, JournalListener, Sample } from './journal.ts';
import type { Plan, Step } from './plan.ts';
import { checkInventory, formatFindings, readInventory } from './preflight.ts';
import { pushAnnotations, verdictLine, writeReports } from './report.ts';
import { exitCodeOf, runPlan } from './run.ts';
import { DEFAULT_ALLOWED_NAMESPACES, checkNamespace, type BlastRadius } from './safety.ts';

// `myhero-ops chaos ...`: flags → plan → run → journal + report. Every command
// takes --namespace (required, allowlisted), --dry-run and the kubeconfig flags.

/** Durations stay text as written (so --help shows "2s") and are checked when read; ms() converts. */
const durationText: Parser<string> = (raw, name) => {
  duration(raw, name);
  return raw.trim();
};
const ms = (text: string): number => duration(text, 'duration');

const connection = {
  namespace: setting({ flag: '-n, --namespace <ns>', describe: 'namespace to act in (required; checked against the allowlist)', default: '', parse: string }),
  kubeconfig: setting({ flag: '--kubeconfig <file>', describe: 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)', default: '', parse: string }),
  context: setting({ flag: '--context <name>', describe: 'kubeconfig context (default: its current-context)', default: '', parse: string }),
  allowNamespaces: setting({
    flag: '--allow-namespaces <list>',
    describe: 'namespaces chaos may act in',
    default: [...DEFAULT_ALLOWED_NAMESPACES] as string[],
    parse: list(string),
    env: ['MYHERO_CHAOS_NAMESPACES'],
  }),
  force: setting({ flag: '--force', describe: 'allow system namespaces, namespaces off the allowlist and control-plane nodes', default: false, parse: bool }),
  json: setting({ flag: '--json', describe: 'print the result as JSON on stdout', default: false, parse: bool }),
};

const running = {
  ...connection,
  dryRun: setting({ flag: '--dry-run', describe: 'read the cluster and print every action it would take; change nothing', default: false, parse: bool }),
  out: setting({ flag: '--out <dir>', describe: 'directory for journal.json, report.md and report.html (default: reports/chaos/<time>-<command>)', default: '', parse: string }),
  poll: setting({ flag: '--poll <duration>', describe: 'how often waits poll the API', default: '2s', parse: durationText }),
  sample: setting({ flag: '--sample <duration>', describe: 'how often the timeline is sampled and events collected', default: '5s', parse: durationText }),
  timeout: setting({ flag: '--timeout <duration>', describe: 'limit for the whole run; rollbacks still run after it', default: '30m', parse: durationText }),
  rollbackTimeout: setting({ flag: '--rollback-timeout <duration>', describe: 'limit for each rollback', default: '5m', parse: durationText }),
  grafanaUrl: setting({ flag: '--grafana-url <url>', describe: 'push the actions as Grafana annotations (tag chaos) to this Grafana', default: '', parse: url, env: ['GRAFANA_URL'] }),
  grafanaTokenFile: setting({ flag: '--grafana-token-file <file>', describe: 'file holding the Grafana token (or env GRAFANA_TOKEN)', default: '', parse: string }),
};

type Common = Resolved<typeof running>;

function connect(cfg: Resolved<typeof connection>): { kube: Kube; namespace: string } {
  const namespace = checkNamespace(cfg.namespace, { allowed: cfg.allowNamespaces, force: cfg.force });
  const kube = connectKube({ kubeconfig: cfg.kubeconfig || undefined, context: cfg.context || undefined });
  return { kube, namespace };
}

/** The namespace must exist: a typo should not become "no pods matched". */
async function assertNamespace(kube: Kube, namespace: string): Promise<void> {
  await kube.getNamespace(namespace).catch((err: unknown) => {
    throw new UserError(`namespace "${namespace}": ${describeError(err)}`, 2);
  });
}

function outDir(cfg: Common, command: string): string {
  if (cfg.out) return cfg.out;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `reports/chaos/${stamp}-${command}`;
}

async function execute(plan: Plan, cfg: Common, ctx: RunContext, kube: Kube, loadKey?: string): Promise<number> {
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
    force: cfg.force,
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
  if (cfg.grafanaUrl && !cfg.dryRun) {
    const token = readSecret({ file: cfg.grafanaTokenFile || undefined, env: ['GRAFANA_TOKEN'], what: 'Grafana token' });
    annotations = await pushAnnotations(journal, { url: cfg.grafanaUrl, token }).catch((err: unknown) => {
      ctx.log.warn({ err: describeError(err) }, 'Grafana annotations not pushed');
      return undefined;
    });
  }
  report(journal, paths, cfg, ctx, annotations);
  return exitCodeOf(journal);
}

function report(j: JournalData, paths: Record<string, string>, cfg: Common, ctx: RunContext, annotations?: number): void {
  if (cfg.json) {
    ctx.out(JSON.stringify({ status: j.status, verdict: verdictLine(j), verdicts: j.verdicts, measurements: j.measurements, error: j.error, reports: paths, annotations }));
    return;
  }
  ctx.out('');
  for (const v of j.verdicts) ctx.out(`${v.pass ? 'pass' : 'FAIL'}  ${v.name}: ${v.reason}`);
  for (const [k, v] of Object.entries(j.measurements)) ctx.out(`      ${k}: ${k.endsWith('Ms') ? `${(v / 1000).toFixed(2)} s` : v}`);
  ctx.out(verdictLine(j));
  ctx.out(`journal ${paths.journal}, report ${paths.html}${annotations !== undefined ? `, ${annotations} Grafana annotation(s)` : ''}`);
}

function radiusOf(count: number | undefined, percent: number | undefined): BlastRadius {
  if ((count === undefined) === (percent === undefined)) throw new UserError('pass exactly one of --count N or --percent P', 2);
  return count !== undefined ? { count } : { percent: percent! };
}

function nodeOf(node: string, random: boolean): string {
  if (!!node === random) throw new UserError('pass exactly one of --node NAME or --random', 2);
  return node || 'random';
}

function simplePlan(command: string, title: string, namespace: string, step: Step, observe: Plan['observe'] = {}): Plan {
  return { title, command, namespace, observe, steadyState: [], steadyStateRecoveryMs: 0, method: [step], probes: [] };
}

export function registerChaos(program: Command): void {
  const chaos = defineGroup(program, 'chaos', 'Game days against Kubernetes: preflight, pod-kill, node-drain, node-kill, gameday (rollbacks always run)');

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
      interval: setting({ flag: '--interval <duration>', describe: 'repeat a round this often (with --duration)', default: undefined as string | undefined, parse: durationText }),
      duration: setting({ flag: '--duration <duration>', describe: 'keep repeating for this long (with --interval)', default: undefined as string | undefined, parse: durationText }),
      recoverWithin: setting({ flag: '--recover-within <duration>', describe: 'wait this long for the pods to be Ready again (0 = do not wait)', default: '2m', parse: durationText }),
    },
    async run(cfg, ctx) {
      if (!cfg.selector) throw new UserError('--selector is required (e.g. --selector tier=app)', 2);
      if ((cfg.interval === undefined) !== (cfg.duration === undefined)) throw new UserError('--interval and --duration go together', 2);
      const radius = radiusOf(cfg.count, cfg.percent);
      const { kube, namespace } = connect(cfg);
      const step: Step = {
        kind: 'pod-kill',
        spec: { selector: cfg.selector, radius, graceSeconds: cfg.grace, recoverWithinMs: ms(cfg.recoverWithin) || undefined },
        everyMs: cfg.interval === undefined ? undefined : ms(cfg.interval),
        forMs: cfg.duration === undefined ? undefined : ms(cfg.duration),
      };
      return execute(simplePlan('pod-kill', `pod-kill ${cfg.selector}`, namespace, step), cfg, ctx, kube);
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
      evictionTimeout: setting({ flag: '--eviction-timeout <duration>', describe: 'give up on a pod a PDB keeps protecting after this long', default: '2m', parse: durationText }),
      retry: setting({ flag: '--retry <duration>', describe: 'wait between retries of a refused (429) eviction', default: '5s', parse: durationText }),
      hold: setting({ flag: '--hold <duration>', describe: 'keep the node drained this long before the rollback uncordons it', default: '0s', parse: durationText }),
      grace: setting({ flag: '--grace <seconds>', describe: "eviction grace period (default: the pod's own)", default: undefined as number | undefined, parse: int(0, 3600) }),
    },
    async run(cfg, ctx) {
      const node = nodeOf(cfg.node, cfg.random);
      const { kube, namespace } = connect(cfg);
      const step: Step = {
        kind: 'node-drain',
        spec: { node, evictionTimeoutMs: ms(cfg.evictionTimeout), retryMs: ms(cfg.retry), graceSeconds: cfg.grace },
        holdMs: ms(cfg.hold),
      };
      return execute(simplePlan('node-drain', `node-drain ${node}`, namespace, step), cfg, ctx, kube);
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
      selector: setting({ flag: '--selector <labels>', describe: 'Deployments whose full availability means "service whole"', default: GAMEDAY_DEFAULTS.nodeKillSelector, parse: string }),
      notReadyTimeout: setting({ flag: '--not-ready-timeout <duration>', describe: 'how long Kubernetes may take to see the node NotReady', default: '2m', parse: durationText }),
      recoverTimeout: setting({ flag: '--recover-timeout <duration>', describe: 'how long pods may take to be Ready elsewhere (default covers the 300 s unreachable toleration)', default: '10m', parse: durationText }),
      hookTimeout: setting({ flag: '--hook-timeout <duration>', describe: 'limit for each hook command', default: '1m', parse: durationText }),
    },
    async run(cfg, ctx) {
      const node = nodeOf(cfg.node, cfg.random);
      if (!cfg.exec || !cfg.restore) throw new UserError('--exec and --restore are both required (the restore hook is the rollback)', 2);
      const { kube, namespace } = connect(cfg);
      const step: Step = {
        kind: 'node-kill',
        spec: {
          node,
          exec: cfg.exec,
          restore: cfg.restore,
          selector: cfg.selector,
          notReadyTimeoutMs: ms(cfg.notReadyTimeout),
          recoverTimeoutMs: ms(cfg.recoverTimeout),
          hookTimeoutMs: ms(cfg.hookTimeout),
        },
      };
      return execute(simplePlan('node-kill', `node-kill ${node}`, namespace, step), cfg, ctx, kube);
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
      key: setting({ flag: '--key <key>', describe: 'myhero-app key for the load', default: '', parse: string, env: ['MYHERO_APP_KEY'], secret: true }),
      keyFile: setting({ flag: '--key-file <file>', describe: 'file holding the myhero-app key', default: '', parse: string }),
    },
    async run(cfg, ctx, args) {
      const vars: Record<string, string> = {};
      for (const pair of cfg.set) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
        if (!m) throw new UserError(`invalid --set "${pair}": expected NAME=VALUE`, 2);
        vars[m[1]!] = m[2]!;
      }
      const plan = loadGameday(args[0]!, { namespace: cfg.namespace || undefined, vars });
      const { kube, namespace } = connect({ ...cfg, namespace: plan.namespace });
      const key = readSecret({ value: cfg.key || undefined, file: cfg.keyFile || undefined, what: 'myhero-app key' });
      return execute({ ...plan, namespace }, cfg, ctx, kube, key);
    },
  });
}
