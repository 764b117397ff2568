import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defineCommand, defineGroup } from '../lib/cli.ts';
import { setting } from '../lib/config.ts';
import { EXIT } from '../lib/errors.ts';
import { describeMonitoring, monitoringOf } from '../lib/monitoring.ts';
import { bool, string } from '../lib/parse.ts';
import { writeFiles } from '../lib/output.ts';
import { createProgress } from '../lib/progress.ts';
import { buildBundle } from './bundle.ts';
import { checksExitCode, runChecks, type CheckResult } from './checks.ts';
import { alertsSpec, configFromSettings } from './config.ts';
import { allAlerts } from './rule.ts';

// `alerts build` and `alerts test`: config → bundle → files (→ checks → report).

const json = setting({ flag: '--json', describe: 'print the result as JSON on stdout', default: false, parse: bool });

function table(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = results.map((r) => {
    const head = `${r.ok ? 'PASS' : r.unjudged ? 'ERROR' : 'FAIL'}  ${r.name.padEnd(width)}  ${String(r.ms).padStart(5)} ms`;
    return r.ok ? `${head}  ${r.detail}` : `${head}\n${r.detail.replace(/^/gm, '      ')}`;
  });
  const failed = results.filter((r) => !r.ok && !r.unjudged).length;
  const unjudged = results.filter((r) => r.unjudged).length;
  lines.push(`${results.length - failed - unjudged} passed, ${failed} failed${unjudged ? `, ${unjudged} could not run` : ''}`);
  return lines.join('\n');
}

export function registerAlerts(program: Command): void {
  const alerts = defineGroup(program, 'alerts', 'Prometheus alert rules, Alertmanager routing and Slack templates');

  defineCommand(alerts, {
    name: 'build',
    summary: 'Write rule files, a PrometheusRule, alertmanager.yml, templates and the Slack Secret shape',
    help: [
      'Write the alerting bundle to --out:',
      '  prometheus/rules/*.rules.yml   plain Prometheus rule files (rule_files)',
      '  prometheus/tests/*.test.yml    their promtool unit tests',
      '  alertmanager/alertmanager.yml  routes, receivers, inhibit rules; templates/ beside it',
      '  kubernetes/                    PrometheusRule, Alertmanager config Secret, kustomization,',
      '                                 and the Slack webhook Secret shape (placeholders only)',
      'Selectors, thresholds and the runbook base come from the monitoring config (section `monitoring` of the config file, shared with the dashboards); the other settings from the `alerts` section; flags and env override both. The build prints the effective selectors.',
    ].join('\n'),
    section: 'alerts',
    spec: { out: setting({ flag: '--out <dir>', describe: 'output directory', default: 'out/alerts', parse: string }), json, ...alertsSpec },
    async run(v, ctx) {
      const cfg = configFromSettings(v);
      const { groups, files } = buildBundle(cfg);
      const out = resolve(v.out);
      writeFiles(out, files);
      const paths = Object.keys(files).sort();
      if (v.json) {
        ctx.out(
          JSON.stringify({
            out,
            monitoring: monitoringOf(cfg),
            alerts: allAlerts(groups).map((a) => ({ name: a.name, severity: a.severity, for: a.for })),
            files: paths,
          }),
        );
      } else {
        ctx.out(`wrote ${paths.length} files (${allAlerts(groups).length} alerts) to ${out}:\n${paths.map((p) => `  ${p}`).join('\n')}`);
        ctx.out(describeMonitoring(cfg));
      }
      return EXIT.passed;
    },
  });

  defineCommand(alerts, {
    name: 'test',
    summary: 'Build the bundle and check it with the real promtool, amtool and Alertmanager',
    help: [
      'Checks, in order:',
      '  every alert has a firing and a must-not-fire unit-test case',
      '  promtool check rules',
      '  promtool test rules',
      '  amtool check-config',
      '  amtool config routes test, for every alert and fall-through label set',
      '  inhibition, against a real Alertmanager on loopback',
      'Exits 1 when any check fails, 3 when a check could not run (a tool missing or crashing) and none failed.',
    ].join('\n'),
    section: 'alerts',
    spec: { out: setting({ flag: '--out <dir>', describe: 'keep the checked bundle here (default: a temporary directory, removed)', default: '', parse: string }), json, ...alertsSpec },
    async run(v, ctx) {
      const cfg = configFromSettings(v);
      const { groups, files } = buildBundle(cfg);
      const dir = v.out ? resolve(v.out) : mkdtempSync(join(tmpdir(), 'myhero-alerts-test-'));
      const progress = createProgress(ctx.log, { label: 'alerts test' });
      try {
        writeFiles(dir, files);
        const results = await runChecks(cfg, groups, dir, {
          signal: ctx.signal,
          onStart: (name) => progress.update({ checking: name }),
          onResult: (r) => ctx.log.debug({ check: r.name, ok: r.ok, ms: r.ms }, 'check done'),
        });
        progress.done();
        const ok = results.every((r) => r.ok);
        if (v.json) ctx.out(JSON.stringify({ ok, checks: results, ...(v.out ? { out: dir } : {}) }));
        else ctx.out(table(results));
        if (ctx.signal.aborted) return EXIT.interrupted;
        return checksExitCode(results);
      } finally {
        if (!v.out) rmSync(dir, { recursive: true, force: true });
      }
    },
  });
}
