import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startAlertmanager } from '../../lab/promstack.ts';
import { buildBundle, BUNDLE_PATHS, templateFiles } from '../bundle.ts';
import { inhibitionCases } from '../cases/inhibition.ts';
import { runChecks } from '../checks.ts';
import { inhibitionOutcomes, postAlerts } from '../inhibition.ts';
import { toYaml } from '../render.ts';
import { testConfig } from './fixtures/config.ts';

// The checks `alerts test` runs, with the real promtool, amtool and
// Alertmanager: they pass on the shipped rules and config, and fail when the
// rules, the routes or the inhibit rule are broken.

const dirs: string[] = [];
function written(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'alerts-checks-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const CHECKS = ['unit-test coverage', 'promtool check rules', 'promtool test rules', 'amtool check-config', 'amtool config routes test', 'inhibition (real Alertmanager)'];

describe('alerts checks with the real promtool, amtool and Alertmanager', () => {
  it('pass on the default build', async () => {
    const cfg = testConfig();
    const { groups, files } = buildBundle(cfg);
    const results = await runChecks(cfg, groups, written(files));
    expect(results.map((r) => r.name)).toEqual(CHECKS);
    for (const r of results) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
    expect(results.find((r) => r.name === 'promtool test rules')!.detail).toMatch(/^\d+ cases in 4 files$/);
  });

  it('pass on another cluster\'s config: any namespace, other jobs and thresholds, email on', async () => {
    const cfg = testConfig({
      namespace: '',
      appJob: 'app',
      exporterJob: 'rpi',
      ksmJob: 'ksm',
      errorRatio: 0.07,
      appLatencyP99: 0.3,
      dataLatencyP99: 2,
      lostVoteRatio: 0.02,
      emailTo: 'oncall@example.org',
      smtpUsername: 'alertmanager',
    });
    const { groups, files } = buildBundle(cfg);
    const results = await runChecks(cfg, groups, written(files));
    for (const r of results) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
    const am = parse(files[BUNDLE_PATHS.alertmanager]!) as { receivers: { name: string }[] };
    expect(am.receivers.map((r) => r.name)).toContain('email-critical');
  });

  it('fail when a rule no longer behaves as its unit tests say, or a route is missing', async () => {
    const cfg = testConfig();
    const { groups, files } = buildBundle(cfg, { forOverrides: { PiCpuTemperatureHigh: '10m' } });
    const am = parse(files[BUNDLE_PATHS.alertmanager]!) as { route: { routes: { receiver: string }[] } };
    am.route.routes = am.route.routes.filter((r) => r.receiver !== 'slack-critical');
    const results = await runChecks(cfg, groups, written({ ...files, [BUNDLE_PATHS.alertmanager]: toYaml(am) }));
    const failed = Object.fromEntries(results.filter((r) => !r.ok).map((r) => [r.name, r.detail]));
    expect(Object.keys(failed).sort()).toEqual(['amtool config routes test', 'promtool test rules']);
    expect(failed['promtool test rules']).toContain('PiCpuTemperatureHigh: fires after 5 m above 70 °C');
    expect(failed['amtool config routes test']).toContain('PiCpuTemperatureCritical (critical): expected slack-critical');
  });

  it('tell a too-wide inhibit rule from the right one, on a real Alertmanager', async () => {
    const cfg = testConfig();
    const am = parse(buildBundle(cfg).files[BUNDLE_PATHS.alertmanager]!) as { inhibit_rules: { equal: string[] }[] };
    // Without `instance` in `equal`, one Pi's critical silences its family's warnings on every other Pi:
    // pi-2's temperature warning under pi-1's critical, pi-1's under-voltage warning under pi-2's.
    am.inhibit_rules[0]!.equal = am.inhibit_rules[0]!.equal.filter((l) => l !== 'instance');
    const templates = Object.fromEntries(Object.entries(templateFiles()).map(([n, t]) => [`templates/${n}`, t]));
    const running = await startAlertmanager({ config: toYaml(am), files: templates });
    try {
      const cases = inhibitionCases(cfg.selectors);
      await postAlerts(running.url, cases);
      const wrong = (await inhibitionOutcomes(running.url, cases)).filter((o) => o.inhibited !== o.case.inhibited);
      expect(wrong.map((o) => o.case.why)).toEqual(['the same warning on another Pi', 'a warning of another family on the same Pi']);
    } finally {
      await running.stop();
    }
  });
});
