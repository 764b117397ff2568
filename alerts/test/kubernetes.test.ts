import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { amtoolBinary } from '../../lib/promstack.ts';
import { isKustomization, validateObject } from '../../test/fixtures/k8s-schemas.ts';
import { EMAIL_SUBJECT_TEMPLATE, SLACK_TEMPLATES } from '../alertmanager.ts';
import { buildBundle, BUNDLE_PATHS, templateFiles } from '../bundle.ts';
import { inlineTemplate } from '../templates.ts';
import { testConfig } from './fixtures/config.ts';

// What `alerts build` writes for the Prometheus Operator: a PrometheusRule and
// an AlertmanagerConfig (the default delivery, merged by the Operator into the
// stack's config), the Slack Secret's shape, and the opt-in whole-config
// Secret. All validated against the upstream schemas; the AlertmanagerConfig
// routes like alertmanager.yml and says what the templates say.

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter(Boolean);
const tmp = mkdtempSync(join(tmpdir(), 'alerts-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Kubernetes delivery', () => {
  const cfg = testConfig({ namespace: 'votes', emailTo: 'oncall@example.org', smtpUsername: 'alertmanager' });
  const { files } = buildBundle(cfg);
  const rule = parse(files[BUNDLE_PATHS.prometheusRule]!) as Obj;
  const amc = parse(files[BUNDLE_PATHS.alertmanagerConfig]!) as Obj;

  it('validates every object against the Kubernetes and Prometheus Operator schemas', async () => {
    const kubernetesFiles = Object.keys(files).filter((f) => f.startsWith('kubernetes/'));
    expect(kubernetesFiles.sort()).toEqual(
      [BUNDLE_PATHS.alertmanagerConfig, BUNDLE_PATHS.alertmanagerSecret, BUNDLE_PATHS.kustomization, BUNDLE_PATHS.prometheusRule, BUNDLE_PATHS.slackSecret].sort(),
    );
    const kinds: string[] = [];
    for (const f of kubernetesFiles) {
      for (const obj of docs(files[f]!)) {
        if (isKustomization(obj)) continue;
        await validateObject(obj);
        kinds.push(`${obj.apiVersion} ${obj.kind}`);
      }
    }
    expect(kinds.sort()).toEqual(['monitoring.coreos.com/v1 PrometheusRule', 'monitoring.coreos.com/v1alpha1 AlertmanagerConfig', 'v1 Secret', 'v1 Secret']);
  });

  it('rejects an AlertmanagerConfig the Operator would reject (negative control)', async () => {
    const broken = structuredClone(amc);
    // (Child routes are free-form in the CRD schema; the Operator checks them when it merges.)
    broken.spec.inhibitRules[0].sourceMatch[0].matchType = '==';
    await expect(validateObject(broken)).rejects.toThrow(/matchType/);
    const noKey = structuredClone(amc);
    delete noKey.spec.receivers[0].slackConfigs[0].apiURL.key;
    await expect(validateObject(noKey)).rejects.toThrow(/key/);
  });

  it('applies the PrometheusRule and the AlertmanagerConfig by default, never the whole-config Secret or the Slack Secret shape', () => {
    expect(parse(files[BUNDLE_PATHS.kustomization]!)).toMatchObject({ resources: ['prometheusrule.yaml', 'alertmanagerconfig.yaml'] });
  });

  it('labels both with the release kube-prometheus-stack selects by, one setting for both', () => {
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', prometheus: 'k8s', role: 'alert-rules' });
    expect(amc.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const other = buildBundle(testConfig({ release: 'monitoring' })).files;
    expect((parse(other[BUNDLE_PATHS.prometheusRule]!) as Obj).metadata.labels.release).toBe('monitoring');
    expect((parse(other[BUNDLE_PATHS.alertmanagerConfig]!) as Obj).metadata.labels.release).toBe('monitoring');
    const none = parse(buildBundle(testConfig({ release: '' })).files[BUNDLE_PATHS.prometheusRule]!) as Obj;
    expect(none.metadata.labels).not.toHaveProperty('release');
  });

  it("puts the AlertmanagerConfig and its Secrets in myhero's namespace, and gives alerts about nodes and Pis that namespace", () => {
    expect(amc.metadata.namespace).toBe('votes');
    expect((docs(files[BUNDLE_PATHS.slackSecret]!)[0] as Obj).metadata.namespace).toBe('votes');
    expect(rule.metadata.namespace).toBe('monitoring');
    const labels = Object.fromEntries((rule.spec.groups as Obj[]).flatMap((g) => g.rules).map((r: Obj) => [r.alert, r.labels]));
    expect(labels.PiCpuTemperatureCritical).toMatchObject({ namespace: 'votes', severity: 'critical' });
    expect(labels.MyheroNodeNotReady).toMatchObject({ namespace: 'votes' });
    // Alerts about myhero's objects keep the namespace their series carry.
    expect(labels.MyheroVotesLost).not.toHaveProperty('namespace');
    // The plain rule files carry no such label.
    expect(files[`${BUNDLE_PATHS.rules}/pi.rules.yml`]).not.toContain('namespace: votes');
    const anyNs = buildBundle(testConfig({ namespace: '', monitoringNamespace: 'observability' })).files;
    expect((parse(anyNs[BUNDLE_PATHS.alertmanagerConfig]!) as Obj).metadata.namespace).toBe('observability');
  });

  it('routes, inhibits and receives like alertmanager.yml, with the Slack URLs from the Secret', () => {
    const file = parse(files[BUNDLE_PATHS.alertmanager]!) as Obj;
    const fromFile = {
      groupBy: file.route.group_by,
      routes: file.route.routes.map((r: Obj) => [r.receiver, r.matchers, r.continue ?? false, r.repeat_interval ?? '']),
      receivers: file.receivers.map((r: Obj) => [r.name, r.slack_configs?.[0]?.channel ?? '', Boolean(r.email_configs)]),
      inhibit: file.inhibit_rules.map((i: Obj) => [i.source_matchers, i.target_matchers, i.equal]),
    };
    const text = (ms: Obj[]) => ms.map((m) => `${m.name}${m.matchType}${JSON.stringify(m.value)}`);
    const fromCrd = {
      groupBy: amc.spec.route.groupBy,
      routes: amc.spec.route.routes.map((r: Obj) => [r.receiver, text(r.matchers), r.continue ?? false, r.repeatInterval ?? '']),
      receivers: amc.spec.receivers.map((r: Obj) => [r.name, r.slackConfigs?.[0]?.channel ?? '', Boolean(r.emailConfigs)]),
      inhibit: amc.spec.inhibitRules.map((i: Obj) => [text(i.sourceMatch), text(i.targetMatch), i.equal]),
    };
    expect(fromCrd).toEqual(fromFile);
    expect(fromFile.routes[0]).toEqual(['null', ['alertname=~"KubeSchedulerDown|KubeControllerManagerDown|KubeProxyDown|etcd.*|InfoInhibitor"'], false, '']);
    const slack = amc.spec.receivers.find((r: Obj) => r.name === 'slack-critical').slackConfigs[0];
    expect(slack.apiURL).toEqual({ name: 'myhero-alertmanager-slack', key: 'critical-url' });
    expect(amc.spec.receivers.find((r: Obj) => r.name === 'email-critical').emailConfigs[0].authPassword).toEqual({ name: 'myhero-alertmanager-smtp', key: 'password' });
    expect(JSON.stringify(amc)).not.toMatch(/hooks\.slack\.com|{{ template /);
  });

  it('inlines templates that Alertmanager renders exactly like the named ones (real amtool)', () => {
    const templates = join(tmp, 'templates');
    mkdirSync(templates, { recursive: true });
    for (const [name, text] of Object.entries(templateFiles())) writeFileSync(join(templates, name), text);
    const empty = join(tmp, 'empty.tmpl');
    writeFileSync(empty, '');
    const alert = (status: string, extra: Obj = {}) => ({
      status,
      labels: { alertname: 'PiCpuTemperatureCritical', severity: 'critical', alertgroup: 'PiCpuTemperature', instance: 'pi-worker-1', job: 'arm-exporter' },
      annotations: { summary: 'Pi pi-worker-1 CPU peaks at 85 °C and throttles', description: 'hot', runbook_url: 'https://git.example.org/runbooks/PiCpuTemperatureCritical.md' },
      startsAt: '2024-05-01T10:00:00Z',
      endsAt: status === 'resolved' ? '2024-05-01T10:05:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=x',
      fingerprint: 'f1',
      ...extra,
    });
    const render = (data: Obj, glob: string, text: string) => {
      const file = join(tmp, 'data.json');
      writeFileSync(file, JSON.stringify(data));
      return execFileSync(amtoolBinary(), ['template', 'render', `--template.glob=${glob}`, `--template.text=${text}`, `--template.data=${file}`], { encoding: 'utf8' });
    };
    const files = templateFiles();
    for (const status of ['firing', 'resolved']) {
      const a = alert(status);
      const data = { receiver: 'slack-critical', status, alerts: [a, alert(status, { labels: { ...a.labels, instance: 'pi-worker-2' }, fingerprint: 'f2' })], groupLabels: { alertname: a.labels.alertname }, commonLabels: { alertname: a.labels.alertname, severity: 'critical' }, commonAnnotations: {}, externalURL: 'http://alertmanager:9093' };
      for (const name of [...new Set([...Object.values(SLACK_TEMPLATES), EMAIL_SUBJECT_TEMPLATE])]) {
        const named = render(data, join(templates, '*.tmpl'), `{{ template "${name}" . }}`);
        expect(named.trim().length, name).toBeGreaterThan(0);
        expect(render(data, empty, inlineTemplate(files, name)), `${name} (${status})`).toBe(named);
      }
    }
  });
});
