import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defineCommand, defineGroup } from '../lib/cli.ts';
import { setting } from '../lib/config.ts';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import { describeMonitoring, monitoringFromSettings, monitoringSpec } from '../lib/monitoring.ts';
import { bool, duration, list, oneOf, string, url, type Parser } from '../lib/parse.ts';
import { writeFiles } from '../lib/output.ts';
import { createProgress } from '../lib/progress.ts';
import { prometheusApi } from '../lib/prometheus-api.ts';
import { SELECTIONS, evaluateDashboards, formatEvaluation, panelRows, queriesRun, refusedQueries } from './evaluate.ts';
import type { VariableValue } from './grafana-template.ts';
import { createGrafanaClient, readCaFile, readGrafanaAuth } from '../lib/grafana-client.ts';
import { RULES, lintDashboards, type Finding } from './lint.ts';
import { packageDashboards } from './package.ts';
import { pushDashboards, type PushResult } from './push.ts';
import { buildDashboards } from './registry.ts';

// `myhero-ops dashboards build | lint | push`.

const SECTION = 'dashboards';
const DEFAULT_FOLDER = 'myhero';

const folder = setting({ flag: '--folder <name>', describe: 'Grafana folder for the dashboards ("General" = root)', default: DEFAULT_FOLDER, parse: string });
const json = setting({ flag: '--json', describe: 'print the result as JSON on stdout', default: false, parse: bool });

const buildSpec = {
  out: setting({ flag: '--out <dir>', describe: 'output directory', default: 'out/dashboards', parse: string }),
  ...monitoringSpec,
  folder,
  monitoringNamespace: setting({
    flag: '--monitoring-namespace <ns>',
    describe: 'namespace of the ConfigMaps (where the Grafana sidecar looks)',
    default: 'monitoring',
    parse: string,
  }),
  provisioningPath: setting({
    flag: '--provisioning-path <dir>',
    describe: 'directory in the Grafana container the provisioning provider reads',
    default: '/var/lib/grafana/dashboards/myhero',
    parse: string,
  }),
  json,
};

/** `name=value,name=a|b`: fixed variable values (`|` separates the values of a multi-value variable). */
const variableValues: Parser<Record<string, VariableValue>> = (raw, name) =>
  Object.fromEntries(
    list(string)(raw, name).map((pair) => {
      const m = /^([A-Za-z_]\w*)=(.*)$/.exec(pair);
      if (!m) throw new UserError(`invalid ${name} "${pair}": expected name=value, e.g. source=traefik or node=pi-1|pi-2`, EXIT.badInput);
      return [m[1]!, m[2]!.includes('|') ? m[2]!.split('|') : m[2]!];
    }),
  );

const lintSpec = {
  prometheus: setting({
    flag: '--prometheus <url>',
    describe: 'also open the dashboards on this Prometheus as Grafana would (variables resolved, macros filled in) and run every query; a query it refuses fails the lint',
    default: '',
    parse: url,
  }),
  data: setting({
    flag: '--data',
    describe:
      'with --prometheus: also run every panel for each variable selection (--selections) and fail on a panel with no data while something it reads has series; panels whose inputs are all absent are listed as not judged',
    default: false,
    parse: bool,
  }),
  selections: setting({
    flag: '--selections <list>',
    describe: 'with --data: the variable selections to open each dashboard with: all (All), one (the first value), two (the first two values)',
    default: [...SELECTIONS],
    parse: list(oneOf(SELECTIONS)),
  }),
  vary: setting({
    flag: '--vary <variables>',
    describe: 'the variables the selections apply to (default: every multi-value query variable)',
    default: [] as string[],
    parse: list(string),
  }),
  var: setting({ flag: '--var <name=value,...>', describe: 'fix variables whatever the selection, e.g. source=traefik or node=pi-1|pi-2', default: {}, shown: '', parse: variableValues }),
  range: setting({ flag: '--range <duration>', describe: "the time range ending now (default: each dashboard's own, e.g. 1h)", default: 0, shown: '', parse: duration }),
  scrapeInterval: setting({
    flag: '--scrape-interval <duration>',
    describe: "the Grafana data source's Scrape interval setting, from which $__interval and $__rate_interval follow",
    default: 15_000,
    shown: '15s',
    parse: duration,
  }),
  ...monitoringSpec,
  json,
};

const pushSpec = {
  url: setting({ flag: '--url <url>', describe: "Grafana's URL, e.g. http://grafana.monitoring:3000", default: '', parse: url, env: ['GRAFANA_URL'] }),
  tokenFile: setting({ flag: '--token-file <file>', describe: 'file holding a service-account token (else env GRAFANA_TOKEN)', default: '', parse: string }),
  basicAuthFile: setting({ flag: '--basic-auth-file <file>', describe: 'file holding user:password for basic auth', default: '', parse: string }),
  caFile: setting({ flag: '--ca-file <file>', describe: "PEM CA bundle to trust for Grafana's https certificate", default: '', parse: string }),
  folder,
  overwrite: setting({
    flag: '--no-overwrite',
    describe: 'refuse (412 version-mismatch) instead of replacing a dashboard changed in Grafana since it was read',
    default: true,
    shown: '',
    parse: bool,
  }),
  dryRun: setting({ flag: '--dry-run', describe: 'compare with Grafana and report, change nothing', default: false, parse: bool }),
  message: setting({ flag: '--message <text>', describe: "version-history message in Grafana", default: 'pushed by myhero-ops dashboards push', parse: string }),
  timeout: setting({ flag: '--timeout <duration>', describe: 'per-request timeout', default: 15_000, shown: '15s', parse: duration }),
  ...monitoringSpec,
  json,
};

/**
 * JSON.parse's message as one line. V8 quotes the source around an unexpected
 * token (newlines and all) after the token itself: keep the token, drop the quote.
 * A position becomes line and column, which an editor can go to.
 */
function jsonSyntaxError(message: string, text: string): string {
  const token = /^(Unexpected token .+?), (?:\.\.\.)?"[^]*"(?:\.\.\.)? is not valid JSON$/.exec(message);
  if (token) return token[1]!;
  const at = /^(.*) at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(message);
  if (!at) return message;
  const before = text.slice(0, Number(at[2]));
  return `${at[1]} at line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`;
}

/** Dashboard JSON from a file: as exported by the UI, or wrapped as the API returns it ({dashboard, meta}). */
function readDashboardFile(path: string): { name: string; json: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read dashboard ${path}: ${describeError(err)}`, 2);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`dashboard ${path} is not valid JSON: ${jsonSyntaxError(describeError(err), text)}`, 2);
  }
  const inner = typeof doc === 'object' && doc !== null && 'dashboard' in doc ? (doc as { dashboard: unknown }).dashboard : doc;
  return { name: path, json: inner };
}

const findingLine = (f: Finding) => `${f.dashboard}: [${f.rule}] ${f.where}: ${f.message}`;

const RESULT_WIDTH = 'unchanged'.length;
const resultLine = (r: PushResult) =>
  `${r.outcome.padEnd(RESULT_WIDTH)}  ${r.uid.padEnd(20)}  ${r.title}${r.version !== undefined ? `  (version ${r.version})` : ''}`;

export function registerDashboards(program: Command): void {
  const group = defineGroup(program, 'dashboards', 'Grafana dashboards as code: build, lint and push');

  defineCommand(group, {
    name: 'build',
    summary: 'Write the dashboards as Grafana JSON, a provisioning config and sidecar ConfigMaps',
    help: [
      'Builds every dashboard from code, lints it (a finding fails the build), and writes to --out:',
      "- <name>.json: one per dashboard, importable through Grafana's UI (Dashboards > New > Import).",
      '- provisioning/dashboards/myhero.yaml: a file provider; put it in /etc/grafana/provisioning/dashboards/ and the JSON files in --provisioning-path.',
      '- kubernetes/: ConfigMaps labelled grafana_dashboard: "1" for the kube-prometheus-stack sidecar (in --monitoring-namespace), and a kustomization (kubectl apply -k OUT/kubernetes).',
      'Job names, the workload pattern, thresholds and the runbook base come from the monitoring config (section `monitoring` of the config file, shared with the alerts); the build prints the effective values.',
      'Example: myhero-ops dashboards build --out out/dashboards --runbook-base-url https://github.com/ORG/REPO/blob/main/alerts/runbooks',
    ].join('\n\n'),
    section: SECTION,
    spec: buildSpec,
    async run(cfg, ctx) {
      const started = performance.now();
      const monitoring = monitoringFromSettings(cfg);
      const built = buildDashboards(monitoring);
      const files = packageDashboards(built, { folder: cfg.folder, namespace: cfg.monitoringNamespace, provisioningPath: cfg.provisioningPath });
      const buildMs = performance.now() - started;
      const findings = lintDashboards(built.map((d) => ({ name: d.slug, json: d.json })));
      if (findings.length) {
        for (const f of findings) process.stderr.write(`${findingLine(f)}\n`);
        throw new UserError(`${findings.length} lint finding(s) in the built dashboards; nothing written`, EXIT.failed);
      }
      const out = resolve(cfg.out);
      writeFiles(out, Object.fromEntries(files.map((f) => [f.path, f.content])));
      if (cfg.json) {
        ctx.out(
          JSON.stringify({
            out,
            buildMs: Math.round(buildMs * 10) / 10,
            monitoring,
            dashboards: built.map((d) => ({ uid: d.uid, title: d.title, file: `${d.slug}.json`, panels: d.json.panels?.length ?? 0 })),
            files: files.map((f) => f.path),
          }),
        );
      } else {
        ctx.out(`built ${built.length} dashboards in ${buildMs.toFixed(1)} ms → ${out}`);
        for (const f of files) ctx.out(`  ${f.path}`);
        ctx.out(describeMonitoring(monitoring, 'node-exporter and kube-state-metrics jobs, workloads, thresholds, runbooks (namespace and myhero jobs: the $namespace/$job variables)'));
      }
      return 0;
    },
  });

  defineCommand(group, {
    name: 'lint',
    summary: 'Check the dashboards (or the given JSON files) against the dashboard rules',
    help: [
      'Without files, lints the dashboards this suite builds; with files, Grafana dashboard JSON (UI export or API form). Exit code 1 when anything is found.',
      'With --prometheus URL each dashboard is opened as Grafana opens it: query variables resolved on that Prometheus (label_values, query_result, regex, sort, All as the values found or the custom all value), multi-value values escaped and joined as the Prometheus data source does, $__interval, $__rate_interval and $__range computed from the time range, the panel width and --scrape-interval; every panel query then runs over the range. With --data the report shows, per panel and selection, data, no data, error, or not judged (nothing it reads has series there, e.g. kube-state-metrics not scraped).',
      `Rules: ${Object.entries(RULES)
        .map(([id, text]) => `${id} (${text})`)
        .join('; ')}.`,
      'Example: myhero-ops dashboards lint --prometheus http://prometheus.monitoring:9090 --data --scrape-interval 30s --var source=traefik',
    ].join('\n\n'),
    args: ['[files...]'],
    section: SECTION,
    spec: lintSpec,
    async run(cfg, ctx, args) {
      const files = args;
      const dashboards = files.length
        ? files.map(readDashboardFile)
        : buildDashboards(monitoringFromSettings(cfg)).map((d) => ({ name: d.slug, json: d.json }));
      const findings = lintDashboards(dashboards);
      if (cfg.data && !cfg.prometheus) throw new UserError('--data needs --prometheus URL', EXIT.badInput);
      if (!cfg.prometheus) {
        if (cfg.json) ctx.out(JSON.stringify({ dashboards: dashboards.length, findings }));
        else {
          for (const f of findings) ctx.out(findingLine(f));
          ctx.out(`${dashboards.length} dashboard(s): ${findings.length ? `${findings.length} finding(s)` : 'clean'}`);
        }
        return findings.length ? EXIT.failed : EXIT.passed;
      }

      const api = prometheusApi(cfg.prometheus, { signal: ctx.signal });
      const progress = createProgress(ctx.log, { label: `opening dashboards on ${cfg.prometheus}` });
      const evals = await evaluateDashboards(api, dashboards, {
        onDashboard: (name, i, total) => progress.update({ dashboard: `${i}/${total} ${name}` }),
        selections: cfg.data ? cfg.selections : ['all'],
        ...(cfg.vary.length ? { vary: cfg.vary } : {}),
        fixed: cfg.var,
        ...(cfg.range ? { rangeMs: cfg.range } : {}),
        scrapeIntervalMs: cfg.scrapeInterval,
      });
      progress.done();
      for (const r of refusedQueries(evals)) findings.push({ dashboard: r.dashboard, rule: 'promql', where: r.where, message: `Prometheus refused ${r.sent}: ${r.error}` });
      const rows = cfg.data ? panelRows(evals) : [];
      for (const r of rows) {
        const empty = Object.entries(r.verdicts).filter(([, v]) => v === 'no data').map(([k]) => k);
        if (empty.length) findings.push({ dashboard: r.dashboard, rule: 'data', where: `panel ${r.id} "${r.title}"`, message: `no data with ${empty.join(', ')} although ${r.sources.join(', ')} series exist` });
      }
      const judged = rows.filter((r) => !Object.values(r.verdicts).includes('not judged')).length;
      const queries = queriesRun(evals);

      if (cfg.json) ctx.out(JSON.stringify({ dashboards: dashboards.length, prometheus: cfg.prometheus, queriesRun: queries, findings, ...(cfg.data ? { panels: rows, selections: evals.map((e) => ({ dashboard: e.name, picked: Object.fromEntries(e.selections.map((s) => [s.kind, s.picked])) })) } : {}) }));
      else {
        if (cfg.data) ctx.out(formatEvaluation(evals));
        for (const f of findings) ctx.out(findingLine(f));
        const dataText = cfg.data ? `, ${judged} of ${rows.length} panels judged (${rows.length - judged} not judged: what they read has no series there)` : '';
        ctx.out(`${dashboards.length} dashboard(s), ${queries} queries run on ${cfg.prometheus}${dataText}: ${findings.length ? `${findings.length} finding(s)` : 'clean'}`);
      }
      if (findings.length) return EXIT.failed;
      if (cfg.data && judged === 0) {
        process.stderr.write(`no panel could be judged: nothing the dashboards read has series on ${cfg.prometheus} in the time range\n`);
        return EXIT.unjudged;
      }
      return EXIT.passed;
    },
  });

  defineCommand(group, {
    name: 'push',
    summary: "Create or update the dashboards in a Grafana through its HTTP API",
    help: [
      'Creates the folder if needed, then for each dashboard reads what Grafana holds (GET /api/dashboards/uid/<uid>) and saves it (POST /api/dashboards/db) only when it differs, reporting created, updated or unchanged: a second run changes nothing.',
      'Credentials: --token-file FILE (a service-account token with the Editor role), env GRAFANA_TOKEN, or --basic-auth-file FILE (user:password). They are never printed.',
      'Example: GRAFANA_TOKEN=$(cat token) myhero-ops dashboards push --url https://grafana.example.com --folder myhero',
    ].join('\n\n'),
    section: SECTION,
    spec: pushSpec,
    async run(cfg, ctx) {
      if (!cfg.url) throw new UserError('no Grafana URL: pass --url URL or set GRAFANA_URL', 2);
      const auth = readGrafanaAuth(cfg);
      if (!auth) throw new UserError('no Grafana credentials: pass --token-file FILE, set GRAFANA_TOKEN, or pass --basic-auth-file FILE', 2);
      const ca = cfg.caFile ? readCaFile(cfg.caFile) : undefined;
      const client = createGrafanaClient({ url: cfg.url, auth, ca, timeoutMs: cfg.timeout, signal: ctx.signal });
      const built = buildDashboards(monitoringFromSettings(cfg));
      const { folder: target, results } = await pushDashboards(client, built, {
        folder: cfg.folder,
        overwrite: cfg.overwrite,
        dryRun: cfg.dryRun,
        message: cfg.message,
        onResult: (r) => (cfg.json ? undefined : ctx.out(resultLine(r))),
      });
      const count = (o: PushResult['outcome']) => results.filter((r) => r.outcome === o).length;
      if (cfg.json) ctx.out(JSON.stringify({ url: cfg.url, dryRun: cfg.dryRun, folder: target, dashboards: results }));
      else {
        const folderText = `${target.created ? (cfg.dryRun ? 'new ' : 'created ') : ''}folder "${target.title}"`;
        ctx.out(
          `${cfg.dryRun ? 'dry run, nothing changed: ' : ''}${results.length} dashboards in ${folderText}: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged`,
        );
      }
      return 0;
    },
  });
}
