import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defineCommand } from '../lib/cli.ts';
import { setting } from '../lib/config.ts';
import { ENV, K8S } from '../lib/defaults.ts';
import { UserError, describeError } from '../lib/errors.ts';
import { writeFiles } from '../lib/output.ts';
import { bool, duration, int, list, number, oneOf, string, url } from '../lib/parse.ts';
import { k6Script } from './k6bundle.ts';
import { DEFAULT_THRESHOLDS, k6Duration, settingsFromEnv } from './k6/lib/options.ts';
import { k6OperatorManifests, renderManifests, summaryRecipe } from './k6operator.ts';
import { DEFAULT_MIX, HERO_DISTRIBUTIONS, type MixWeights } from './mix.ts';
import { PLAN_DEFAULTS, parseHeroWeights, parseMix, parseStages } from './plan.ts';
import type { Stage } from './schedule.ts';
import { notForOneRun, parseThresholds } from './thresholds.ts';

// `loadtest k6-operator`: the load shape of `loadtest run`, with the same flags,
// written as k6-operator manifests for a distributed run from inside the cluster.

const pairs = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k}=${v}`).join(',');

const spec = {
  target: setting({ flag: '--target <url>', describe: 'myhero-app URL as the runner pods reach it, e.g. http://myhero-app.default.svc', default: '', parse: url }),
  namespace: setting({ flag: '--namespace <ns>', describe: 'namespace of the TestRun, its ConfigMap and the key Secret', default: K8S.defaultNamespace as string, parse: string }),
  name: setting({ flag: '--name <name>', describe: 'TestRun name (the ConfigMap is <name>-script)', default: 'myhero-vote', parse: string }),
  parallelism: setting({ flag: '--parallelism <n>', describe: 'k6 runner pods; k6 splits voters and rates between them', default: 1, parse: int(1, 1000) }),
  keySecret: setting({ flag: '--key-secret <name>', describe: 'Secret holding the myhero-app key (the key itself is never written)', default: 'myhero-app-key', parse: string }),
  keySecretKey: setting({ flag: '--key-secret-key <key>', describe: 'data key of the key in that Secret', default: ENV.appKey as string, parse: string }),
  voters: setting({ flag: '--voters <n>', describe: 'closed model: concurrent voters in total', default: PLAN_DEFAULTS.voters as number, parse: int(1, 1_000_000) }),
  think: setting({ flag: '--think <duration>', describe: "closed model: pause of each voter between an answer and its next request", default: 0, shown: '', parse: duration }),
  rate: setting({ flag: '--rate <n>', describe: 'open model: requests per second in total; 0 = closed model', default: 0, parse: number(0, 10_000_000) }),
  connections: setting({ flag: '--connections <n>', describe: 'open model: VUs in total (default: the rate, 10–1000)', default: 0, shown: '', parse: int(0, 1_000_000) }),
  duration: setting({ flag: '--duration <duration>', describe: 'length of the load, e.g. 30s, 2m', default: PLAN_DEFAULTS.durationMs as number, shown: k6Duration(PLAN_DEFAULTS.durationMs).text, parse: duration }),
  warmup: setting({ flag: '--warmup <duration>', describe: 'first part of the load excluded from rates and latency', default: 0, shown: '', parse: duration }),
  stages: setting({ flag: '--stages <list>', describe: 'ramp/hold/ramp-down as duration:target pairs, e.g. 10s:50,30s:50,10s:0', default: [] as Stage[], shown: '', parse: parseStages }),
  mix: setting({ flag: '--mix <weights>', describe: 'request mix', default: DEFAULT_MIX as MixWeights, shown: pairs({ ...DEFAULT_MIX }), parse: parseMix }),
  distribution: setting({ flag: '--distribution <name>', describe: `how voters pick heroes from the target's /options: ${HERO_DISTRIBUTIONS.join('|')}`, default: 'uniform' as (typeof HERO_DISTRIBUTIONS)[number], parse: oneOf(HERO_DISTRIBUTIONS) }),
  weights: setting({ flag: '--weights <list>', describe: 'with --distribution weighted: Hero=weight pairs', default: {} as Record<string, number>, shown: '', parse: parseHeroWeights }),
  timeout: setting({ flag: '--timeout <duration>', describe: 'per-request timeout', default: PLAN_DEFAULTS.timeoutMs as number, shown: k6Duration(PLAN_DEFAULTS.timeoutMs).text, parse: duration }),
  drainTimeout: setting({ flag: '--drain-timeout <duration>', describe: 'after the load, how long each runner waits for the recorded count to settle', default: PLAN_DEFAULTS.drainTimeoutMs as number, shown: k6Duration(PLAN_DEFAULTS.drainTimeoutMs).text, parse: duration }),
  threshold: setting({ flag: '--threshold <expr...>', describe: 'pass/fail criteria as for loadtest run, judged by each runner on its share', default: DEFAULT_THRESHOLDS.split(','), parse: list(string) }),
  seed: setting({ flag: '--seed <n>', describe: 'seed of the request mix (default: random)', default: 0, shown: '', parse: int(0, 2 ** 32 - 1) }),
  image: setting({ flag: '--image <image>', describe: "k6 runner image (default: k6-operator's; Pi 3 / arm32v7 clusters need an armv7 build)", default: '', parse: string }),
  separate: setting({ flag: '--separate', describe: 'one runner per node', default: false, parse: bool }),
  cleanup: setting({ flag: '--cleanup', describe: 'let k6-operator delete the runner jobs after the run (their logs go with them)', default: false, parse: bool }),
  out: setting({ flag: '--out <dir>', describe: 'where to write the manifests (default: dist/k6-operator/<name>/)', default: '', parse: string }),
  json: setting({ flag: '--json', describe: 'print what was written as JSON on stdout', default: false, parse: bool }),
};

export function registerK6Operator(loadtestGroup: Command): void {
  defineCommand(loadtestGroup, {
    name: 'k6-operator',
    summary: 'Write k6-operator manifests (TestRun + script ConfigMap) for a distributed vote load from inside the cluster',
    help:
      'Bundles loadtests/k6/vote.ts and writes configmap.yaml, testrun.yaml and kustomization.yaml.\n' +
      'The runners read the myhero-app key from a Secret you create; it is never written.\n' +
      'Example:\n' +
      '  myhero-ops loadtest k6-operator --parallelism 4 --target http://myhero-app.default.svc --voters 400 --duration 2m\n' +
      `  kubectl -n default create secret generic myhero-app-key --from-literal=${ENV.appKey}="$MYHERO_APP_KEY"\n` +
      '  kubectl apply -k dist/k6-operator/myhero-vote\nSee loadtests/k6/README.md.',
    section: 'loadtest',
    spec,
    run: async (cfg, ctx) => {
      if (!cfg.target) throw new UserError('no target: pass --target with the myhero-app URL as pods in the cluster reach it', 2);
      // What the flags cannot say alone, in the flags' own terms (the script would name its env vars).
      const loadMs = cfg.stages.length ? cfg.stages.reduce((a, s) => a + s.durationMs, 0) : cfg.duration;
      if (cfg.warmup >= loadMs) throw new UserError(`invalid --warmup: must be shorter than the load (${loadMs / 1000} s)`, 2);
      for (const t of parseThresholds(cfg.threshold)) {
        const why = notForOneRun(t);
        if (why) throw new UserError(`--threshold ${why}`, 2);
        if (cfg.parallelism > 1 && (t.metric === 'lost' || t.metric === 'extra')) {
          throw new UserError(`--threshold "${t.source}" needs --parallelism 1: each runner sees only its own accepted votes`, 2);
        }
      }
      const scriptEnv: Record<string, string> = {
        TARGET: cfg.target,
        ...(cfg.rate > 0
          ? { RATE: String(cfg.rate), ...(cfg.connections ? { CONNECTIONS: String(cfg.connections) } : {}) }
          : { VOTERS: String(cfg.voters), THINK: k6Duration(cfg.think).text }),
        DURATION: k6Duration(cfg.duration).text,
        WARMUP: k6Duration(cfg.warmup).text,
        ...(cfg.stages.length ? { STAGES: cfg.stages.map((s) => `${k6Duration(s.durationMs).text}:${s.target}`).join(',') } : {}),
        MIX: pairs({ ...cfg.mix }),
        DISTRIBUTION: cfg.distribution,
        ...(Object.keys(cfg.weights).length ? { WEIGHTS: pairs(cfg.weights) } : {}),
        TIMEOUT: k6Duration(cfg.timeout).text,
        DRAIN_TIMEOUT: k6Duration(cfg.drainTimeout).text,
        THRESHOLDS: cfg.threshold.join(','),
        ...(cfg.seed ? { SEED: String(cfg.seed) } : {}),
      };
      // Every pod's script reads these: check them here with the same code.
      try {
        settingsFromEnv({ ...scriptEnv, PARALLELISM: String(cfg.parallelism) });
      } catch (err) {
        throw new UserError(describeError(err), 2);
      }
      const script = await k6Script('vote');
      let manifests;
      try {
        manifests = k6OperatorManifests({
          name: cfg.name,
          namespace: cfg.namespace,
          parallelism: cfg.parallelism,
          scriptEnv,
          keySecret: { name: cfg.keySecret, key: cfg.keySecretKey },
          script: script.code,
          ...(cfg.image ? { image: cfg.image } : {}),
          separate: cfg.separate,
          cleanup: cfg.cleanup,
        });
      } catch (err) {
        throw new UserError(describeError(err), 2);
      }
      const dir = resolve(cfg.out || join('dist', 'k6-operator', cfg.name));
      const files = writeFiles(dir, renderManifests(manifests));
      ctx.log.debug({ dir, script: script.from }, 'k6-operator manifests written');
      if (cfg.json) {
        ctx.out(JSON.stringify({ name: cfg.name, namespace: cfg.namespace, parallelism: cfg.parallelism, dir, files, script: script.from, keySecret: cfg.keySecret }));
        return 0;
      }
      ctx.out(
        [
          `wrote ${files.join(', ')}`,
          'next:',
          `  kubectl -n ${cfg.namespace} create secret generic ${cfg.keySecret} --from-literal=${cfg.keySecretKey}="$MYHERO_APP_KEY"   # once`,
          `  kubectl apply -k ${dir}`,
          `  kubectl -n ${cfg.namespace} get testrun ${cfg.name} -w`,
          '  # the runners\' summaries (one JSON line each, "report":"myhero-k6-vote"), reconciled:',
          `  ${summaryRecipe(cfg.namespace, cfg.name).text.replace(/\n/g, '\n  ')}`,
        ].join('\n'),
      );
      return 0;
    },
  });
}
