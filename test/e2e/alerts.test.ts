import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, BUNDLE_PATHS, templateFiles } from '../../alerts/bundle.ts';
import { startSlackReceiver, type SlackMessage, type SlackReceiver } from '../../alerts/test/fixtures/slack-receiver.ts';
import { testConfig } from '../../alerts/test/fixtures/config.ts';
import { startExporter } from '../../exporters/server.ts';
import { makeSysfs, setCpuTemperature } from '../../exporters/test/fixtures/sysfs.ts';
import { startAlertmanager, startPrometheus, type RunningAlertmanager, type RunningPrometheus } from '../../lib/promstack.ts';
import { PROMETHEUS, RPI } from '../../lib/catalog.ts';
import { PI_THERMAL } from '../../lib/defaults.ts';

// End to end on loopback: the ARM exporter reads a fixture sysfs tree, the real
// Prometheus scrapes it and evaluates the built rules, the real Alertmanager
// routes with the built config and templates, and a loopback stand-in for
// Slack's incoming webhook receives the messages. The test heats the fixture
// past the throttling point, then cools it.
//
// Test-only timing: scrape and evaluate every second, `for` of 2 s (critical)
// and 4 s (warning, so it arrives after the critical that inhibits it), the
// temperature rules' one-minute peak window cut to 3 s, group_wait and
// group_interval of 1 s. Everything else is the built bundle.

const WAIT_MS = 30_000;
const RUNBOOKS = 'https://git.example.org/ops/myhero-ops/-/blob/main/alerts/runbooks';
const title = (m: SlackMessage) => m.attachments[0]?.title ?? '';
const text = (m: SlackMessage) => m.attachments.map((a) => a.text).join('\n');

describe('a Pi overheats: exporter → Prometheus → Alertmanager → Slack', () => {
  let sysfs: string;
  let exporter: { url: string; stop(): Promise<void> };
  let slack: SlackReceiver;
  let am: RunningAlertmanager;
  let prom: RunningPrometheus;
  let instance: string;

  beforeAll(async () => {
    sysfs = mkdtempSync(join(tmpdir(), 'e2e-alerts-'));
    makeSysfs(sysfs, 'pi4');
    setCpuTemperature(sysfs, 50);
    exporter = await startExporter({ host: '127.0.0.1', port: 0, sysfsRoot: sysfs, vcgencmdCacheMs: 1000, collectors: ['cpu'] });
    instance = new URL(exporter.url).host;

    slack = await startSlackReceiver();
    writeFileSync(join(sysfs, 'critical-url'), `${slack.url}/critical\n`);
    writeFileSync(join(sysfs, 'alerts-url'), `${slack.url}/alerts\n`);
    const cfg = testConfig({
      slackCriticalUrlFile: join(sysfs, 'critical-url'),
      slackAlertsUrlFile: join(sysfs, 'alerts-url'),
      groupWait: '1s',
      groupInterval: '1s',
      runbookBaseUrl: RUNBOOKS,
    });
    const { files } = buildBundle(cfg, { interval: '1s', forOverrides: { PiCpuTemperatureCritical: '2s', PiCpuTemperatureHigh: '4s' } });

    const templates = Object.fromEntries(Object.entries(templateFiles()).map(([n, t]) => [`templates/${n}`, t]));
    am = await startAlertmanager({ config: files[BUNDLE_PATHS.alertmanager]!, files: templates });

    const peakWindow = (w: string) => `${RPI.cpuTemperature}{job="${cfg.selectors.jobs.exporter}"}[${w}]`;
    const rules = Object.fromEntries(
      Object.entries(files)
        .filter(([path]) => path.startsWith(`${BUNDLE_PATHS.rules}/`))
        .map(([path, t]) => [`rules/${path.split('/').at(-1)}`, t.replaceAll(peakWindow('1m'), peakWindow('3s'))]),
    );
    // Both temperature rules' windows were cut: if the rule text changes, say so here, not as a timeout below.
    expect(Object.values(rules).join('').split(peakWindow('3s')).length - 1).toBe(2);
    prom = await startPrometheus({
      config: {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['rules/*.rules.yml'],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(am.url).host] }] }] },
        scrape_configs: [{ job_name: cfg.selectors.jobs.exporter, static_configs: [{ targets: [instance] }] }],
      },
      files: rules,
    });
    await prom.waitFor(`${PROMETHEUS.up}{job="${cfg.selectors.jobs.exporter}"}`, (s) => s[0]?.value === 1, WAIT_MS);
  });

  afterAll(async () => {
    await prom?.stop();
    await am?.stop();
    await exporter?.stop();
    await slack?.stop();
    rmSync(sysfs, { recursive: true, force: true });
  });

  it('delivers the critical to the critical channel with its runbook link, and keeps the covered warning quiet', async () => {
    expect(await prom.query(RPI.cpuTemperature)).toEqual([{ metric: expect.objectContaining({ instance }), value: 50 }]);
    const hot = PI_THERMAL.throttle + 5;
    setCpuTemperature(sysfs, hot);

    const firing = await slack.waitFor((m) => title(m) === '[FIRING:1] PiCpuTemperatureCritical', WAIT_MS);
    expect(firing.path).toBe('/critical');
    expect(firing.channel).toBe('#myhero-critical');
    expect(text(firing)).toContain(`*Pi ${instance} CPU peaks at ${hot} °C and throttles* (critical)`);
    expect(text(firing)).toContain(`The CPU of ${instance} has gone above ${PI_THERMAL.throttle} °C every minute for 2 minutes (peak of the last minute: ${hot} °C)`);
    expect(text(firing)).toContain(`\`instance=${instance}\``);
    // A web URL becomes a Slack link: <url|text>.
    expect(text(firing)).toContain(`*Runbook:* <${RUNBOOKS}/PiCpuTemperatureCritical.md|PiCpuTemperatureCritical runbook>`);
    expect(text(firing)).toMatch(/<http:\/\/[^|]+\/graph\?g0\.expr=[^|]+\|graph>/);

    // The warning fires in Prometheus too, reaches Alertmanager, and is inhibited there.
    await prom.waitFor(`${PROMETHEUS.alerts}{alertname="PiCpuTemperatureHigh", alertstate="firing"}`, (s) => s.length === 1, WAIT_MS);
    const deadline = Date.now() + WAIT_MS;
    let warning: { status: { state: string; inhibitedBy: string[] } } | undefined;
    while (!warning && Date.now() < deadline) {
      const res = await fetch(`${am.url}/api/v2/alerts?filter=${encodeURIComponent('alertname="PiCpuTemperatureHigh"')}`);
      [warning] = (await res.json()) as (typeof warning)[];
      if (!warning) await new Promise((r) => setTimeout(r, 200));
    }
    expect(warning?.status.state).toBe('suppressed');
    expect(warning?.status.inhibitedBy).toHaveLength(1);
  });

  it('delivers the resolved message once the Pi cools down, and never a message for the inhibited warning', async () => {
    setCpuTemperature(sysfs, 45);
    const resolved = await slack.waitFor((m) => title(m) === '[RESOLVED] PiCpuTemperatureCritical', WAIT_MS);
    expect(resolved.path).toBe('/critical');
    expect(resolved.attachments[0]!.color).toBe('good');
    // The resolution names the alert, never the stale firing summary ("peaks at 85 °C and throttles").
    expect(text(resolved)).toMatch(/^:white_check_mark: \*Resolved:\* PiCpuTemperatureCritical \(critical\)\nBack to normal since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.\n/);
    expect(text(resolved)).not.toMatch(/°C|throttl/);
    expect(text(resolved)).toContain(`\`instance=${instance}\``);
    expect(text(resolved)).toContain(`*Runbook:* <${RUNBOOKS}/PiCpuTemperatureCritical.md|PiCpuTemperatureCritical runbook>`);
    expect(slack.messages.filter((m) => title(m).includes('PiCpuTemperatureHigh'))).toEqual([]);
    expect(slack.messages.filter((m) => m.path === '/alerts')).toEqual([]);
  });
});
