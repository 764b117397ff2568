import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.ts';

// One monitoring config for alerts and dashboards: the `monitoring` section of
// the config file changes both at once, both builds report the same effective
// config, and neither folder keeps a selector of its own.

const tmp = mkdtempSync(join(tmpdir(), 'monitoring-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, { cwd: tmp });

const MONITORING = {
  nodeExporterJob: 'node',
  ksmJob: 'ksm',
  workloadPattern: 'hero-.*',
  errorRatio: 0.02,
  appLatencyP99: 0.4,
  runbookBaseUrl: 'https://git.example.org/ops/runbooks',
};

describe('the monitoring section of the config file', () => {
  const config = join(tmp, 'config.yaml');
  writeFileSync(config, `monitoring:\n${Object.entries(MONITORING).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`);

  it('changes the alerts and the dashboards at once, and both builds print the same effective config', async () => {
    const [alerts, dashboards] = await Promise.all([
      cli(['--config', config, 'alerts', 'build', '--out', join(tmp, 'alerts'), '--json']),
      cli(['--config', config, 'dashboards', 'build', '--out', join(tmp, 'dashboards'), '--json']),
    ]);
    expect(alerts.code, alerts.stderr).toBe(0);
    expect(dashboards.code, dashboards.stderr).toBe(0);
    const a = JSON.parse(alerts.stdout) as { monitoring: unknown };
    const d = JSON.parse(dashboards.stdout) as { monitoring: unknown };
    expect(a.monitoring).toEqual(d.monitoring);
    expect(a.monitoring).toMatchObject({
      selectors: { jobs: { nodeExporter: 'node', kubeStateMetrics: 'ksm' }, workloadPattern: 'hero-.*' },
      thresholds: { errorRatio: 0.02, appLatencyP99Seconds: 0.4 },
      runbookBaseUrl: MONITORING.runbookBaseUrl,
    });

    const rules = readdirSync(join(tmp, 'alerts/prometheus/rules')).map((f) => readFileSync(join(tmp, 'alerts/prometheus/rules', f), 'utf8')).join('\n');
    expect(rules).toContain('deployment=~"hero-.*"');
    expect(rules).toContain('> 0.02');
    expect(rules).toContain('node_uname_info{job="node"');
    expect(rules).not.toContain('myhero-.*');

    const dash = ['pi-cluster', 'workloads-autoscaling', 'gameday'].map((f) => readFileSync(join(tmp, 'dashboards', `${f}.json`), 'utf8')).join('\n');
    expect(dash).toContain('job=\\"node\\"');
    expect(dash).toContain('job=\\"ksm\\"');
    expect(dash).toContain('pod=~\\"hero-.*\\"');
    expect(dash).not.toContain('myhero-.*');
    expect(dash).toMatch(/"value": 0\.02,\s*"color": "red"/);
    expect(dash).toContain('https://git.example.org/ops/runbooks/MyheroErrorRatioHigh.md');
  });

  it('refuses a monitoring setting left in a command section, in one line', async () => {
    const misplaced = join(tmp, 'misplaced.yaml');
    writeFileSync(misplaced, 'dashboards:\n  workloadPattern: hero-.*\n');
    const r = await cli(['--config', misplaced, 'dashboards', 'build', '--out', join(tmp, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('myhero-ops: config file: "workloadPattern" belongs in the "monitoring" section, which every command reading it shares; move it there');
  });

  it('is the only source of selectors: dashboards import nothing from alerts', () => {
    const dir = new URL('../dashboards/', import.meta.url);
    const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    for (const f of sources) expect(readFileSync(new URL(f, dir), 'utf8'), f).not.toMatch(/from '(\.\.\/)+alerts\//);
  });
});
