import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXTERNAL, LOADTEST, RPI, TWIN } from '../../lib/catalog.ts';
import { PI_THERMAL } from '../../lib/defaults.ts';
import { buildBundle, ruleContext } from '../bundle.ts';
import { alertCases } from '../cases/index.ts';
import { ruleDocument } from '../render.ts';
import { allAlerts, LOCATING_LABELS, type PiAlerts } from '../rule.ts';
import { ruleGroups } from '../rules/index.ts';
import { coverageProblems } from '../unittests.ts';
import { testConfig } from './fixtures/config.ts';

const cfg = testConfig();
const groups = ruleGroups(ruleContext(cfg));
const alerts = allAlerts(groups);
const runbook = (name: string) => new URL(`../runbooks/${name}.md`, import.meta.url);

describe('alert rules as code', () => {
  it('covers what the issue asks for, with unique names', () => {
    const names = alerts.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'PiCpuTemperatureHigh', 'PiCpuTemperatureCritical', 'PiThrottled', 'PiUnderVoltage', 'PiUnderVoltageOccurred', 'PiExporterDown', 'PiExporterAbsent',
        'MyheroAppDown', 'MyheroErrorRatioHigh', 'MyheroLatencyP99High', 'MyheroQueueBacklogGrowing', 'MyheroVotesLost', 'MyheroDataSaturated',
        'MyheroHpaMaxedOut', 'MyheroHpaReplicasMismatch', 'MyheroPodCrashLooping', 'MyheroPodNotReady', 'MyheroDeploymentReplicasMismatch', 'MyheroNodeNotReady',
        'Watchdog',
      ]),
    );
  });

  it('takes the Pi thresholds from PI_THERMAL: warning above 70 °C for 5 m, critical above 80 °C for 2 m, on the peak of each minute', () => {
    const high = alerts.find((a) => a.name === 'PiCpuTemperatureHigh')!;
    const critical = alerts.find((a) => a.name === 'PiCpuTemperatureCritical')!;
    expect(high).toMatchObject({ severity: 'warning', for: '5m' });
    expect(high.expr).toBe(`max_over_time(${RPI.cpuTemperature}{job="arm-exporter"}[1m]) > ${PI_THERMAL.warning}`);
    expect(critical).toMatchObject({ severity: 'critical', for: '2m' });
    expect(critical.expr).toBe(`max_over_time(${RPI.cpuTemperature}{job="arm-exporter"}[1m]) > ${PI_THERMAL.throttle}`);
  });

  it('builds Pi alerts that fire on absence only where ARM nodes may exist, always, or not at all', () => {
    const absent = (piAlerts: PiAlerts) => allAlerts(ruleGroups(ruleContext(testConfig({ piAlerts })))).find((a) => a.name === 'PiExporterAbsent');
    expect(absent('auto')!.expr).toBe(
      [
        'absent(up{job="arm-exporter"})',
        'and on ()',
        '(count(node_uname_info{job="node-exporter", machine=~"aarch64|armv7l|armv6l"}) > 0 or absent(node_uname_info{job="node-exporter"}))',
      ].join('\n'),
    );
    expect(absent('on')!.expr).toBe('absent(up{job="arm-exporter"})');
    const off = ruleGroups(ruleContext(testConfig({ piAlerts: 'off' })));
    expect(off.map((g) => g.name)).toEqual(['myhero-ops.myhero', 'myhero-ops.kubernetes', 'myhero-ops.meta']);
    expect(coverageProblems(off, alertCases(ruleContext(testConfig({ piAlerts: 'off' }))))).toEqual([]);
  });

  it("does not take kube-prometheus's alert names", () => {
    // kube-prometheus rules over kube-state-metrics and node-exporter series that ours overlap.
    // (Watchdog is the one shared name: ours has the same labels as the stack's, so Alertmanager sees one alert.)
    for (const theirs of ['KubeNodeNotReady', 'KubePodCrashLooping', 'KubePodNotReady', 'KubeDeploymentReplicasMismatch', 'KubeHpaMaxedOut', 'KubeHpaReplicasMismatch']) {
      expect(alerts.map((a) => a.name)).not.toContain(theirs);
    }
  });

  it('gives every alert a severity, a summary and description naming its locating labels, and a runbook with every section', () => {
    for (const a of alerts) {
      expect(['critical', 'warning', 'none']).toContain(a.severity);
      if (!a.alwaysFires) {
        expect(a.summary, a.name).toMatch(/\{\{ \$labels\.\w+ \}\}/);
        expect(a.description, a.name).toMatch(/\{\{ \$labels\.\w+ \}\}/);
      }
      expect(existsSync(runbook(a.name)), `alerts/runbooks/${a.name}.md`).toBe(true);
      const text = readFileSync(runbook(a.name), 'utf8');
      expect(text.startsWith(`# ${a.name}\n`), a.name).toBe(true);
      for (const section of ['## Meaning', '## Impact', '## Diagnosis', '## Mitigation', '## Threshold and `for`']) {
        expect(text, `${a.name} runbook lacks ${section}`).toContain(section);
      }
    }
  });

  it('is listed in the README table with its severity and `for`', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| \[(\w+)\]\(runbooks\/\1\.md\) \| (\w+) \| .+ \| (\w+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual(alerts.map((a) => [a.name, a.severity, a.for]));
  });

  it('pairs a warning with the critical that names its cause, by family', () => {
    const families = new Map<string, typeof alerts>();
    for (const a of alerts) if (a.family) families.set(a.family, [...(families.get(a.family) ?? []), a]);
    expect([...families.keys()].sort()).toEqual(['MyheroQueue', 'PiCpuTemperature', 'PiUnderVoltage']);
    for (const members of families.values()) {
      expect(members.map((m) => m.severity).sort()).toEqual(['critical', 'warning']);
    }
  });

  it('queries only metric names from the catalogue', () => {
    const catalogue = new Set<string>([
      ...Object.values(TWIN),
      ...Object.values(LOADTEST),
      ...Object.values(RPI),
      ...Object.values(EXTERNAL).flat(),
      `${TWIN.httpDuration}_bucket`,
    ]);
    const used = new Set(alerts.flatMap((a) => [...a.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(catalogue.has(name), name).toBe(true);
  });

  it('takes every selector from the config, so the rules fit another cluster', () => {
    const custom = testConfig({
      namespace: 'votes',
      appJob: 'votes/app',
      dataJob: 'votes/data',
      ernstJob: 'votes/ernst',
      exporterJob: 'rpi',
      ksmJob: 'ksm',
      appDeployment: 'hero-app',
      workloadPattern: 'hero-.*',
    });
    const exprs = allAlerts(ruleGroups(ruleContext(custom))).map((a) => a.expr).join('\n');
    for (const stale of ['"myhero-app"', '"myhero-data"', '"myhero-ernst"', '"arm-exporter"', '"kube-state-metrics"', '"default"', 'myhero-.*']) {
      expect(exprs).not.toContain(stale);
    }
    for (const fresh of ['job="votes/app"', 'job="votes/data"', 'job="votes/ernst"', 'job="rpi"', 'job="ksm"', 'namespace="votes"', 'deployment="hero-app"', '"hero-.*"']) {
      expect(exprs).toContain(fresh);
    }
    const anyNamespace = allAlerts(ruleGroups(ruleContext(testConfig({ namespace: '' })))).map((a) => a.expr).join('\n');
    expect(anyNamespace).not.toContain('namespace="');
  });

  it('renders runbook URLs from the configured base, and test-only interval and `for` overrides', () => {
    const doc = ruleDocument(groups, {
      runbookBaseUrl: 'https://git.example.org/ops/myhero-ops/-/blob/main/alerts/runbooks/',
      interval: '1s',
      forOverrides: { PiCpuTemperatureCritical: '2s' },
    });
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(doc.groups.every((g) => g.interval === '1s')).toBe(true);
    expect(rules.find((r) => r.alert === 'PiCpuTemperatureCritical')).toMatchObject({
      for: '2s',
      labels: { severity: 'critical', alertgroup: 'PiCpuTemperature' },
      annotations: { runbook_url: 'https://git.example.org/ops/myhero-ops/-/blob/main/alerts/runbooks/PiCpuTemperatureCritical.md' },
    });
    expect(rules.find((r) => r.alert === 'PiCpuTemperatureHigh')!.for).toBe('5m');
    expect(ruleDocument(groups, { runbookBaseUrl: 'x' }).groups.map((g) => g.interval)).toEqual(['30s', '30s', '1m', '1m']);
  });

  it('inhibits only within a family and on the same locating labels', () => {
    const am = parse(buildBundle(cfg).files['alertmanager/alertmanager.yml']!) as { inhibit_rules: { equal: string[]; source_matchers: string[]; target_matchers: string[] }[] };
    expect(am.inhibit_rules).toEqual([
      {
        source_matchers: ['severity="critical"', 'alertgroup=~".+"'],
        target_matchers: ['severity="warning"', 'alertgroup=~".+"'],
        equal: ['alertgroup', ...LOCATING_LABELS],
      },
    ]);
  });
});

describe('unit-test coverage check', () => {
  const cases = alertCases(ruleContext(cfg));

  it('passes for the shipped cases', () => {
    expect(coverageProblems(groups, cases)).toEqual([]);
  });

  it('fails when an alert loses its firing case, its must-not-fire case, or a case names no rule', () => {
    const withoutFiring = cases.filter((c) => !(c.alert === 'MyheroVotesLost' && c.expect.length > 0));
    expect(coverageProblems(groups, withoutFiring)).toEqual(['MyheroVotesLost has no unit-test case where it fires']);
    const withoutQuiet = cases.filter((c) => !(c.alert === 'PiThrottled' && c.expect.length === 0));
    expect(coverageProblems(groups, withoutQuiet)).toEqual(['PiThrottled has no unit-test case where it must not fire']);
    const stray = [...cases, { ...cases[0]!, alert: 'PiOnFire' }];
    expect(coverageProblems(groups, stray)).toEqual(['unit-test cases name PiOnFire, which no rule defines']);
  });

  it('fails for a new alert nobody wrote a case for', () => {
    const extra = [...groups, { name: 'myhero-ops.extra', interval: '1m' as const, alerts: [{ ...alerts[0]!, name: 'BrandNewAlert', family: undefined }] }];
    expect(coverageProblems(extra, cases)).toEqual([
      'BrandNewAlert has no unit-test case where it fires',
      'BrandNewAlert has no unit-test case where it must not fire',
    ]);
  });
});
