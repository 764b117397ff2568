import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const BIN = new URL('../../bin/myhero-ops', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'alerts-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('bin/myhero-ops alerts', () => {
  it('build writes rule files, a PrometheusRule, alertmanager.yml, templates and a Secret shape with placeholders only', async () => {
    const out = join(tmp, 'build');
    const config = join(tmp, 'myhero-ops.yaml');
    writeFileSync(config, 'monitoring:\n  namespace: votes\n  runbookBaseUrl: https://git.example.org/ops/myhero-ops/-/blob/main/alerts/runbooks\nalerts:\n  slackAlertsChannel: "#votes"\n');
    const r = await cli(['--config', config, 'alerts', 'build', '--out', out, '--json', '--exporter-job', 'rpi']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { files: string[]; alerts: { name: string }[] };
    expect(result.alerts).toHaveLength(20);
    for (const f of result.files) expect(existsSync(join(out, f)), f).toBe(true);

    const pi = readFileSync(join(out, 'prometheus/rules/pi.rules.yml'), 'utf8');
    expect(pi).toContain('rpi_cpu_temperature_celsius{job="rpi"} > 80');
    expect(pi).toContain('runbook_url: https://git.example.org/ops/myhero-ops/-/blob/main/alerts/runbooks/PiCpuTemperatureCritical.md');
    expect(readFileSync(join(out, 'prometheus/rules/myhero.rules.yml'), 'utf8')).toContain('namespace="votes"');

    const rule = parse(readFileSync(join(out, 'kubernetes/prometheusrule.yaml'), 'utf8')) as { kind: string; metadata: { namespace: string; labels: Record<string, string> }; spec: { groups: unknown[] } };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.metadata.namespace).toBe('monitoring');
    expect(rule.metadata.labels).toMatchObject({ prometheus: 'k8s', role: 'alert-rules', release: 'kube-prometheus-stack' });
    expect(rule.spec.groups).toHaveLength(4);

    const secret = parseAllDocuments(readFileSync(join(out, 'kubernetes/slack-webhook-secret.yaml'), 'utf8'))[0]!.toJS() as { kind: string; stringData: Record<string, string> };
    expect(secret.kind).toBe('Secret');
    expect(Object.keys(secret.stringData).sort()).toEqual(['alerts-url', 'critical-url']);
    for (const v of Object.values(secret.stringData)) expect(v).toMatch(/^REPLACE-WITH-/);

    const amSecret = parse(readFileSync(join(out, 'kubernetes/alertmanager-config-secret.yaml'), 'utf8')) as { stringData: Record<string, string> };
    expect(Object.keys(amSecret.stringData).sort()).toEqual(['alertmanager.yaml', 'myhero.tmpl']);
    expect(amSecret.stringData['alertmanager.yaml']).toContain('/etc/alertmanager/config/*.tmpl');
    expect(amSecret.stringData['alertmanager.yaml']).toContain('api_url_file: /etc/alertmanager/secrets/myhero-alertmanager-slack/critical-url');

    const kustomization = parse(readFileSync(join(out, 'kubernetes/kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources).not.toContain('slack-webhook-secret.yaml');

    // No URL of any webhook in anything built.
    for (const f of result.files) expect(readFileSync(join(out, f), 'utf8'), f).not.toMatch(/hooks\.slack\.com|api_url:/);
  });

  it('test runs every check and prints a summary', async () => {
    const r = await cli(['alerts', 'test']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS {2}promtool test rules/);
    expect(r.stdout).toMatch(/PASS {2}inhibition \(real Alertmanager\)/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('6 passed, 0 failed');
  });

  it('turns bad input into one line and a non-zero exit', async () => {
    const r = await cli(['alerts', 'build', '--out', join(tmp, 'x'), '--lost-vote-ratio', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('myhero-ops: invalid --lost-vote-ratio "lots": expected a number from 0.0001 to 0.5');
  });
});
