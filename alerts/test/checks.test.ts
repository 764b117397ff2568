import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { promtoolBinary, startAlertmanager } from '../../lib/promstack.ts';
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

  it('pass on another cluster\'s config: any namespace, other jobs and thresholds, email on, Pi alerts always, no null routes', async () => {
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
      piAlerts: 'on',
      nullAlerts: [],
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

  it("catch the issue's false page and silent critical: the earlier expressions fail the ernst-down and hovering cases", async () => {
    const cfg = testConfig();
    const { files } = buildBundle(cfg);
    type RuleFile = { groups: { rules: { alert: string; expr: string; for: string }[] }[] };
    const mutate = (path: string, alert: string, change: (r: { expr: string; for: string }) => void) => {
      const doc = parse(files[path]!) as RuleFile;
      change(doc.groups[0]!.rules.find((r) => r.alert === alert)!);
      files[path] = toYaml(doc);
    };
    // VotesLost as it was: an absent consumer counted as no queue growth (100 % "lost" once ernst's counter leaves
    // the window), and no guard while ernst is missing (its counter, ended mid-window, is extrapolated: 3.3 % "lost").
    mutate(`${BUNDLE_PATHS.rules}/myhero.rules.yml`, 'MyheroVotesLost', (r) => {
      r.expr = r.expr.replace(/ or sum by \(namespace\) \(increase\(myhero_votes_published_total[^)]*\)\) \* 0\)/, ')').replace(/\nunless on \(namespace\)\n[\s\S]*$/, '');
      expect(r.expr).not.toMatch(/unless|published_total[^)]*\)\) \* 0/);
    });
    // The critical as it was: a plain threshold with `for: 1m`, restarted by every dip.
    mutate(`${BUNDLE_PATHS.rules}/pi.rules.yml`, 'PiCpuTemperatureCritical', (r) => {
      r.expr = r.expr.replace(/^max_over_time\((.*)\[1m\]\)/, '$1');
      r.for = '1m';
    });
    const dir = written(files);
    const tests = join(dir, BUNDLE_PATHS.tests);
    const out = await promisify(execFile)(promtoolBinary(), ['test', 'rules', 'pi.test.yml', 'myhero.test.yml'], { cwd: tests }).then(
      () => '',
      (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
    );
    const failed = [...out.matchAll(/name: (.+),\n/g)].map((m) => m[1]);
    expect(failed.sort()).toEqual([
      'MyheroVotesLost: does not fire 12 m after ernst is gone: the votes wait in the queue (MyheroQueueNoConsumer speaks)',
      'MyheroVotesLost: does not fire once ernst has been gone for the whole window: all published votes are queued',
      'PiCpuTemperatureCritical: fires on a board the firmware holds at the limit, hovering 79.9/80.8 °C',
    ]);
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
