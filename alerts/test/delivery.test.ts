import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, type RunningAlertmanager } from '../../lab/promstack.ts';
import { buildBundle, BUNDLE_PATHS, templateFiles } from '../bundle.ts';
import { postAlerts } from '../inhibition.ts';
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
    summary: 'Pi pi-worker-1:9243 CPU is at 85 °C and throttling',
    description: 'The CPU of pi-worker-1:9243 has been above 80 °C for 1 minute (85 °C now).',
    runbook_url: 'alerts/runbooks/PiCpuTemperatureCritical.md',
  },
};
const warmWarning = (target: typeof pi1) => ({
  labels: { alertname: 'PiCpuTemperatureHigh', severity: 'warning', alertgroup: 'PiCpuTemperature', ...target },
  annotations: { summary: `Pi ${target.instance} CPU is at 75 °C`, description: 'warm', runbook_url: 'alerts/runbooks/PiCpuTemperatureHigh.md' },
});
const watchdog = { labels: { alertname: 'Watchdog', severity: 'none' }, annotations: { summary: 'Alerting pipeline heartbeat' } };

const text = (m: SlackMessage) => m.attachments.map((a) => a.text).join('\n');
const title = (m: SlackMessage) => m.attachments[0]?.title ?? '';

describe('Alertmanager delivers the built routes and Slack templates', () => {
  let slack: SlackReceiver;
  let am: RunningAlertmanager;
  let secrets: string;
  const criticalHook = '/services/T000/B000/critical-hook-secret';
  const alertsHook = '/services/T000/B001/alerts-hook-secret';

  beforeAll(async () => {
    slack = await startSlackReceiver();
    secrets = mkdtempSync(join(tmpdir(), 'alerts-slack-secret-'));
    writeFileSync(join(secrets, 'critical-url'), `${slack.url}${criticalHook}\n`);
    writeFileSync(join(secrets, 'alerts-url'), `${slack.url}${alertsHook}\n`);
    const cfg = testConfig({
      slackCriticalUrlFile: join(secrets, 'critical-url'),
      slackAlertsUrlFile: join(secrets, 'alerts-url'),
      groupWait: '1s',
      groupInterval: '1s',
    });
    const { files } = buildBundle(cfg);
    const templates = Object.fromEntries(Object.entries(templateFiles()).map(([n, t]) => [`templates/${n}`, t]));
    am = await startAlertmanager({ config: files[BUNDLE_PATHS.alertmanager]!, files: templates });
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
    expect(text(critical)).toContain('*Pi pi-worker-1:9243 CPU is at 85 °C and throttling* (critical)');
    expect(text(critical)).toContain('The CPU of pi-worker-1:9243 has been above 80 °C for 1 minute (85 °C now).');
    expect(text(critical)).toContain('`instance=pi-worker-1:9243` `job=arm-exporter`');
    expect(text(critical)).not.toContain('alertgroup=');
    expect(text(critical)).toContain('*Runbook:* <alerts/runbooks/PiCpuTemperatureCritical.md|PiCpuTemperatureCritical runbook>');

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

  it('sends a resolved message when the critical ends, and then the warning it was covering', async () => {
    const now = Date.now();
    await postAlerts(am.url, [{ ...hotCritical, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(now).toISOString() }]);
    const resolved = await slack.waitFor((m) => title(m).startsWith('[RESOLVED] PiCpuTemperatureCritical'), 15_000);
    expect(resolved.path).toBe(criticalHook);
    expect(resolved.attachments[0]!.color).toBe('good');
    expect(text(resolved)).toContain(':white_check_mark: *Resolved:* Pi pi-worker-1:9243 CPU is at 85 °C and throttling');
    expect(text(resolved)).toContain('<alerts/runbooks/PiCpuTemperatureCritical.md|PiCpuTemperatureCritical runbook>');

    const uncovered = await slack.waitFor((m) => title(m).startsWith('[FIRING:2] PiCpuTemperatureHigh'), 15_000);
    expect(text(uncovered)).toContain('pi-worker-1:9243');
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
