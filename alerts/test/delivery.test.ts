import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startAlertmanager, type RunningAlertmanager } from '../../lib/promstack.ts';
import { buildBundle, BUNDLE_PATHS, templateFiles } from '../bundle.ts';
import type { AlertsConfig } from '../config.ts';
import { postAlerts } from '../inhibition.ts';
import { toYaml } from '../render.ts';
import { startSlackReceiver, type SlackMessage, type SlackReceiver } from './fixtures/slack-receiver.ts';
import { testConfig } from './fixtures/config.ts';

// The built alertmanager.yml and templates in a real Alertmanager, delivering
// to a loopback stand-in for Slack's incoming webhooks: what reaches which
// channel, what a message says, what a critical silences, and the resolved
// message. The webhook URLs are read from files, as in a cluster.

const pi1 = { job: 'arm-exporter', instance: 'pi-worker-1:9243' };
const pi2 = { job: 'arm-exporter', instance: 'pi-worker-2:9243' };
const hotCritical = {
  labels: { alertname: 'PiCpuTemperatureCritical', severity: 'critical', alertgroup: 'PiCpuTemperature', ...pi1 },
  annotations: {
    summary: 'Pi pi-worker-1:9243 CPU peaks at 85 °C and throttles',
    description: 'The CPU of pi-worker-1:9243 has gone above 80 °C every minute for 2 minutes (peak of the last minute: 85 °C).',
    runbook_url: 'alerts/runbooks/PiCpuTemperatureCritical.md',
  },
};
const warmWarning = (target: typeof pi1) => ({
  labels: { alertname: 'PiCpuTemperatureHigh', severity: 'warning', alertgroup: 'PiCpuTemperature', ...target },
  annotations: { summary: `Pi ${target.instance} CPU is at 75 °C`, description: 'warm', runbook_url: 'alerts/runbooks/PiCpuTemperatureHigh.md' },
});
const watchdog = { labels: { alertname: 'Watchdog', severity: 'none' }, annotations: { summary: 'Alerting pipeline heartbeat' } };

const TEMPLATES = Object.fromEntries(Object.entries(templateFiles()).map(([n, t]) => [`templates/${n}`, t]));
const text = (m: SlackMessage) => m.attachments.map((a) => a.text).join('\n');
const title = (m: SlackMessage) => m.attachments[0]?.title ?? '';

describe('Alertmanager delivers the built routes and Slack templates', () => {
  let slack: SlackReceiver;
  let am: RunningAlertmanager;
  let cfg: AlertsConfig;
  let secrets: string;
  const criticalHook = '/services/T000/B000/critical-hook-secret';
  const alertsHook = '/services/T000/B001/alerts-hook-secret';

  beforeAll(async () => {
    slack = await startSlackReceiver();
    secrets = mkdtempSync(join(tmpdir(), 'alerts-slack-secret-'));
    writeFileSync(join(secrets, 'critical-url'), `${slack.url}${criticalHook}\n`);
    writeFileSync(join(secrets, 'alerts-url'), `${slack.url}${alertsHook}\n`);
    cfg = testConfig({
      slackCriticalUrlFile: join(secrets, 'critical-url'),
      slackAlertsUrlFile: join(secrets, 'alerts-url'),
      groupWait: '1s',
      groupInterval: '1s',
    });
    const { files } = buildBundle(cfg);
    am = await startAlertmanager({ config: files[BUNDLE_PATHS.alertmanager]!, files: TEMPLATES });
  });
  afterAll(async () => {
    await am?.stop();
    await slack?.stop();
    rmSync(secrets, { recursive: true, force: true });
  });

  it('sends the critical to the critical channel with summary, description, labels and runbook; the covered warning nowhere; the Watchdog to no one', async () => {
    await postAlerts(am.url, [hotCritical, warmWarning(pi1), warmWarning(pi2), watchdog]);

    const critical = await slack.waitFor((m) => title(m).startsWith('[FIRING:1] PiCpuTemperatureCritical'), 15_000);
    expect(critical.path).toBe(criticalHook);
    expect(critical.channel).toBe('#myhero-critical');
    expect(critical.attachments[0]!.color).toBe('danger');
    expect(text(critical)).toContain('*Pi pi-worker-1:9243 CPU peaks at 85 °C and throttles* (critical)');
    expect(text(critical)).toContain('The CPU of pi-worker-1:9243 has gone above 80 °C every minute for 2 minutes (peak of the last minute: 85 °C).');
    expect(text(critical)).toContain('`instance=pi-worker-1:9243` `job=arm-exporter`');
    expect(text(critical)).not.toContain('alertgroup=');
    // The default runbook base is a repository path, not a URL: shown as text, not as a link Slack cannot open.
    expect(text(critical)).toContain('*Runbook:* `alerts/runbooks/PiCpuTemperatureCritical.md` (in the myhero-ops repository)');
    expect(text(critical)).not.toContain('<alerts/runbooks/');

    const warning = await slack.waitFor((m) => title(m).startsWith('[FIRING:1] PiCpuTemperatureHigh'), 15_000);
    expect(warning.path).toBe(alertsHook);
    expect(warning.channel).toBe('#myhero-alerts');
    expect(warning.attachments[0]!.color).toBe('warning');
    // Only the other Pi's warning: pi-worker-1's is inhibited by its critical.
    expect(text(warning)).toContain('pi-worker-2:9243');
    expect(text(warning)).not.toContain('pi-worker-1:9243');

    const statusRes = await fetch(`${am.url}/api/v2/alerts?filter=alertname%3D%22PiCpuTemperatureHigh%22&filter=instance%3D%22pi-worker-1%3A9243%22`);
    const [covered] = (await statusRes.json()) as { status: { state: string; inhibitedBy: string[] } }[];
    expect(covered!.status.state).toBe('suppressed');
    expect(covered!.status.inhibitedBy).toHaveLength(1);

    expect(slack.messages.some((m) => title(m).includes('Watchdog') || text(m).includes('heartbeat'))).toBe(false);
  });

  it('sends a resolved message without the stale firing values when the critical ends, and then the warning it was covering', async () => {
    const now = Date.now();
    await postAlerts(am.url, [{ ...hotCritical, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now).toISOString() }]);
    const resolved = await slack.waitFor((m) => title(m).startsWith('[RESOLVED] PiCpuTemperatureCritical'), 15_000);
    expect(resolved.path).toBe(criticalHook);
    expect(resolved.attachments[0]!.color).toBe('good');
    expect(text(resolved)).toMatch(/^:white_check_mark: \*Resolved:\* PiCpuTemperatureCritical \(critical\)\nBack to normal since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.\n/);
    expect(text(resolved)).toContain('`instance=pi-worker-1:9243` `job=arm-exporter`');
    // The summary of the last firing evaluation would say it is still hot.
    expect(text(resolved)).not.toMatch(/85 °C|throttles/);

    const uncovered = await slack.waitFor((m) => title(m).startsWith('[FIRING:1] PiCpuTemperatureHigh') && text(m).includes('pi-worker-1:9243'), 15_000);
    expect(uncovered.path).toBe(alertsHook);
  });

  it("posts no resolution for a warning nobody saw fire (inhibited all along), which one shared group would", async () => {
    // pi-worker-3 heats up suddenly: its critical fires (after 2 m) before its warning (after 5 m), which is inhibited from the start.
    const pi3 = { job: 'arm-exporter', instance: 'pi-worker-3:9243' };
    const critical3 = { ...hotCritical, labels: { ...hotCritical.labels, ...pi3 } };
    const startsAt = new Date(Date.now() - 300_000).toISOString();
    await postAlerts(am.url, [{ ...critical3, startsAt }]);
    await slack.waitFor((m) => title(m).startsWith('[FIRING:1] PiCpuTemperatureCritical') && text(m).includes('pi-worker-3'), 15_000);
    await postAlerts(am.url, [{ ...warmWarning(pi3), startsAt }]);
    const query = `${am.url}/api/v2/alerts?filter=${encodeURIComponent('alertname="PiCpuTemperatureHigh"')}&filter=${encodeURIComponent('instance="pi-worker-3:9243"')}`;
    const [warning3] = (await (await fetch(query)).json()) as { status: { state: string } }[];
    expect(warning3?.status.state).toBe('suppressed');
    // It cools down: both resolve at once.
    const endsAt = new Date().toISOString();
    await postAlerts(am.url, [{ ...critical3, startsAt, endsAt }, { ...warmWarning(pi3), startsAt, endsAt }]);
    await slack.waitFor((m) => title(m).startsWith('[RESOLVED] PiCpuTemperatureCritical') && text(m).includes('pi-worker-3'), 15_000);
    await new Promise((r) => setTimeout(r, 3000)); // three group intervals
    expect(slack.messages.filter((m) => title(m).includes("PiCpuTemperatureHigh") && text(m).includes("pi-worker-3")).map((m) => `${title(m)}: ${text(m)}`)).toEqual([]);
  });

  it('would post that resolution if Pis shared one notification group (negative control)', async () => {
    const shared = parse(buildBundle(cfg).files[BUNDLE_PATHS.alertmanager]!) as { route: { group_by: string[] } };
    shared.route.group_by = ['alertname', 'namespace'];
    const am2 = await startAlertmanager({ config: toYaml(shared), files: TEMPLATES });
    try {
      const pi4 = { job: 'arm-exporter', instance: 'pi-worker-4:9243' };
      const pi5 = { job: 'arm-exporter', instance: 'pi-worker-5:9243' };
      const critical4 = { ...hotCritical, labels: { ...hotCritical.labels, ...pi4 } };
      const startsAt = new Date(Date.now() - 300_000).toISOString();
      await postAlerts(am2.url, [{ ...warmWarning(pi5), startsAt }, { ...critical4, startsAt }]);
      await slack.waitFor((m) => title(m).startsWith('[FIRING:1] PiCpuTemperatureHigh') && text(m).includes('pi-worker-5'), 15_000);
      await postAlerts(am2.url, [{ ...warmWarning(pi4), startsAt }]);
      const endsAt = new Date().toISOString();
      await postAlerts(am2.url, [{ ...critical4, startsAt, endsAt }, { ...warmWarning(pi4), startsAt, endsAt }]);
      const stray = await slack.waitFor((m) => text(m).includes(':white_check_mark: *Resolved:* PiCpuTemperatureHigh') && text(m).includes('pi-worker-4'), 15_000);
      expect(title(stray)).toBe('[FIRING:1] PiCpuTemperatureHigh');
    } finally {
      await am2.stop();
    }
  });

  it('never shows the webhook URLs: not in its config, its API or its output', async () => {
    const status = await (await fetch(`${am.url}/api/v2/status`)).text();
    expect(status).toContain('api_url_file');
    for (const hook of [criticalHook, alertsHook]) {
      expect(status).not.toContain(hook);
      expect(am.service.output()).not.toContain(hook);
    }
  });
});
