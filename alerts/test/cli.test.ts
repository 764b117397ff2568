import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { runCli } from '../../test/fixtures/cli.ts';
import { checksExitCode } from '../checks.ts';

const tmp = mkdtempSync(join(tmpdir(), 'alerts-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: tmp, env });

describe('bin/myhero-ops alerts', () => {
  it('build writes rule files, a PrometheusRule, alertmanager.yml, templates and a Secret shape with placeholders only', async () => {
    const out = join(tmp, 'build');
    const config = join(tmp, 'myhero-ops.yaml');
    writeFileSync(config, 'monitoring:\n  namespace: votes\n  runbookBaseUrl: https://git.example.org/ops/myhero-ops/-/blob/main/alerts/runbooks\nalerts:\n  slackAlertsChannel: "#votes"\n');
    const r = await cli(['--config', config, 'alerts', 'build', '--out', out, '--json', '--exporter-job', 'rpi']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { files: string[]; alerts: { name: string }[]; monitoring: { selectors: { namespace: string; jobs: { exporter: string } } } };
    expect(result.alerts).toHaveLength(24);
    // The monitoring section and the flag both reach the effective config.
    expect(result.monitoring.selectors).toMatchObject({ namespace: 'votes', jobs: { exporter: 'rpi' } });
    for (const f of result.files) expect(existsSync(join(out, f)), f).toBe(true);

    const pi = readFileSync(join(out, 'prometheus/rules/pi.rules.yml'), 'utf8');
    expect(pi).toContain('max_over_time(rpi_cpu_temperature_celsius{job="rpi"}[1m]) > 80');
    expect(pi).toContain('runbook_url: https://git.example.org/ops/myhero-ops/-/blob/main/alerts/runbooks/PiCpuTemperatureCritical.md');
    expect(readFileSync(join(out, 'prometheus/rules/myhero.rules.yml'), 'utf8')).toContain('namespace="votes"');

    const rule = parse(readFileSync(join(out, 'kubernetes/prometheusrule.yaml'), 'utf8')) as { kind: string; metadata: { namespace: string; labels: Record<string, string> }; spec: { groups: unknown[] } };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.metadata.namespace).toBe('monitoring');
    expect(rule.metadata.labels).toMatchObject({ prometheus: 'k8s', role: 'alert-rules', release: 'kube-prometheus-stack' });
    expect(rule.spec.groups).toHaveLength(4);
    const amc = parse(readFileSync(join(out, 'kubernetes/alertmanagerconfig.yaml'), 'utf8')) as { kind: string; metadata: { namespace: string }; spec: { receivers: { name: string }[] } };
    expect(amc).toMatchObject({ kind: 'AlertmanagerConfig', metadata: { namespace: 'votes' } });
    expect(readFileSync(join(out, 'alertmanager/alertmanager.yml'), 'utf8')).toContain('channel: "#votes"');

    const secret = parseAllDocuments(readFileSync(join(out, 'kubernetes/slack-webhook-secret.yaml'), 'utf8'))[0]!.toJS() as { kind: string; stringData: Record<string, string> };
    expect(secret.kind).toBe('Secret');
    expect(Object.keys(secret.stringData).sort()).toEqual(['alerts-url', 'critical-url']);
    for (const v of Object.values(secret.stringData)) expect(v).toMatch(/^REPLACE-WITH-/);

    const amSecret = parse(readFileSync(join(out, 'kubernetes/whole-config/alertmanager-config-secret.yaml'), 'utf8')) as { stringData: Record<string, string> };
    expect(Object.keys(amSecret.stringData).sort()).toEqual(['alertmanager.yaml', 'myhero.tmpl']);
    expect(amSecret.stringData['alertmanager.yaml']).toContain('/etc/alertmanager/config/*.tmpl');
    expect(amSecret.stringData['alertmanager.yaml']).toContain('api_url_file: /etc/alertmanager/secrets/myhero-alertmanager-slack/critical-url');

    const kustomization = parse(readFileSync(join(out, 'kubernetes/kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources).toEqual(['prometheusrule.yaml', 'alertmanagerconfig.yaml']);

    // No URL of any webhook in anything built.
    for (const f of result.files) expect(readFileSync(join(out, f), 'utf8'), f).not.toMatch(/hooks\.slack\.com|api_url:/);
  });

  it('build prints the effective monitoring config and says when the runbook base is not a web URL', async () => {
    // ./myhero-ops.yaml, written by the first test, is read from the working directory.
    const r = await cli(['alerts', 'build', '--out', join(tmp, 'plain')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^monitoring config \(alerts and dashboards\):$/m);
    expect(r.stdout).toMatch(/^ {2}namespace {8}votes$/m);
    expect(r.stdout).toMatch(/^ {2}jobs {13}app=myhero-app data=myhero-data ernst=myhero-ernst exporter=arm-exporter node-exporter=node-exporter kube-state-metrics=kube-state-metrics$/m);
    expect(r.stdout).toMatch(/^ {2}runbooks {9}https:\/\/git\.example\.org\//m);
    expect(r.stdout).not.toMatch(/^note:/m);
    const relative = await cli(['alerts', 'build', '--out', join(tmp, 'plain'), '--runbook-base-url', 'alerts/runbooks']);
    expect(relative.stdout).toMatch(/^note: the runbook base "alerts\/runbooks" is not a web URL, so links from Slack and Grafana will not open;/m);
  });

  it('test runs every check and prints a summary', async () => {
    const r = await cli(['alerts', 'test']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS {2}promtool test rules/);
    expect(r.stdout).toMatch(/PASS {2}inhibition \(real Alertmanager\)/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('6 passed, 0 failed');
  });

  it('exits 3, in one line, when a tool it needs is missing: nothing was judged', async () => {
    const r = await cli(['alerts', 'test'], { PATH: tmp });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^myhero-ops: promtool not found: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('decides the exit code: a failed check is 1 even beside one that could not run, which alone is 3', () => {
    const r = (ok: boolean, unjudged?: boolean) => ({ name: 'x', ok, unjudged, detail: '', ms: 1 });
    expect(checksExitCode([r(true), r(true)])).toBe(0);
    expect(checksExitCode([r(true), r(false)])).toBe(1);
    expect(checksExitCode([r(false, true), r(false)])).toBe(1);
    expect(checksExitCode([r(true), r(false, true)])).toBe(3);
  });

  it('turns bad input into one line and a non-zero exit', async () => {
    const r = await cli(['alerts', 'build', '--out', join(tmp, 'x'), '--lost-vote-ratio', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('myhero-ops: invalid --lost-vote-ratio "lots": expected a number from 0.0001 to 0.5');
  });
});
