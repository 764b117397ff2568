import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS } from '../../dashboards/registry.ts';
import { startGrafanaStandin, type GrafanaStandin } from '../../dashboards/test/fixtures/grafana-standin.ts';
import { freePort } from '../../lib/net.ts';
import { runCli } from '../fixtures/cli.ts';

// The `dashboards` commands as a user runs them: files on disk, exit codes,
// one-line errors, and a token that never shows up in any output. Grafana
// itself cannot run here: push talks to the loopback stand-in of its HTTP API.

const TOKEN = 'glsa_cli-test-token-9f8e7d6c5b4a';
/** How many dashboards the suite ships: the rows of its table. */
const N = DASHBOARDS.length;

/** No Grafana credentials inherited from the test's environment: each test names its own. */
const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { GRAFANA_TOKEN: undefined, GRAFANA_URL: undefined, ...env } });

let dir: string;
let grafana: GrafanaStandin | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'myhero-dash-cli-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  writeFileSync(join(dir, 'basic'), 'admin:pa55word\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await grafana?.stop();
  grafana = undefined;
});

describe('myhero-ops dashboards (CLI)', { timeout: 180_000 }, () => {
  it('build writes the JSON, provisioning, ConfigMaps and kustomization; lint passes on them and flags a broken one', async () => {
    const out = join(dir, 'out');
    const r = await run(['dashboards', 'build', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^built ${N} dashboards in \\d+\\.\\d ms → `));
    expect(r.stdout).toMatch(/^ {2}jobs {13}app=myhero-app .* node-exporter=node-exporter kube-state-metrics=kube-state-metrics$/m);
    expect(r.stdout).toMatch(/note: the runbook base "alerts\/runbooks" is not a web URL/);
    const listed = r.stdout.split('\n').filter((l) => /^ {2}\S+\.(json|yaml)$/.test(l)).map((l) => l.trim());
    // A JSON and a ConfigMap per dashboard, the provisioning file and the kustomization.
    expect(listed).toHaveLength(2 * N + 2);
    for (const f of listed) expect(readFileSync(join(out, f), 'utf8').length).toBeGreaterThan(100);
    const cm = parse(readFileSync(join(out, 'kubernetes', 'grafana-dashboard-gameday.yaml'), 'utf8')) as { metadata: { labels: Record<string, string> } };
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');

    const broken = JSON.parse(readFileSync(join(out, 'gameday.json'), 'utf8')) as { panels: { description?: string; datasource?: unknown }[] };
    delete broken.panels[1]!.description;
    broken.panels[2]!.datasource = { type: 'prometheus', uid: 'PBFA97CFB590B2093' };
    writeFileSync(join(out, 'broken.json'), JSON.stringify({ dashboard: broken, meta: {} }));
    const lint = await run(['dashboards', 'lint', join(out, 'pi-cluster.json'), join(out, 'broken.json')]);
    expect(lint.code).toBe(1);
    expect(lint.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/broken\.json: \[description\] panel 2 ".*": panel has no description$/),
      expect.stringMatching(/broken\.json: \[datasource-ref\] panel 3 ".*": datasource uid "PBFA97CFB590B2093" is hard-coded$/),
      '2 dashboard(s): 2 finding(s)',
    ]);
  });

  it('push: created, then unchanged, then updated; token from a file, GRAFANA_TOKEN or basic auth; never printed', async () => {
    grafana = await startGrafanaStandin({ token: TOKEN, basic: { user: 'admin', password: 'pa55word' } });
    const first = await run(['dashboards', 'push', '--url', grafana.url, '--token-file', join(dir, 'token')]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^created\s+myhero-pi-cluster\s+myhero \/ Pi cluster {2}\(version 1\)$/m);
    expect(first.stdout).toMatch(new RegExp(`${N} dashboards in created folder "myhero": ${N} created, 0 updated, 0 unchanged\\n$`));

    const second = await run(['dashboards', 'push', '--url', grafana.url, '--json'], { GRAFANA_TOKEN: TOKEN });
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout) as { folder: { created: boolean }; dashboards: { outcome: string }[] };
    expect(result.folder.created).toBe(false);
    expect(result.dashboards.map((d) => d.outcome)).toEqual(Array(N).fill('unchanged'));

    const third = await run(['dashboards', 'push', '--url', grafana.url, '--basic-auth-file', join(dir, 'basic'), '--runbook-base-url', 'https://wiki.example.com/rb']);
    expect(third.stdout).toMatch(`0 created, ${N} updated, 0 unchanged`);

    for (const r of [first, second, third]) expect(`${r.stdout}${r.stderr}`).not.toMatch(/9f8e7d6c5b4a|pa55word/);
    expect(grafana.violations).toEqual([]);
  });

  it('push errors are one line with a non-zero exit, and never show the token', async () => {
    grafana = await startGrafanaStandin({ token: 'the-right-token' });
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['--url', grafana.url], {}, 2, /^myhero-ops: no Grafana credentials: pass --token-file FILE, set GRAFANA_TOKEN, or pass --basic-auth-file FILE\n$/],
      [['--url', grafana.url, '--token-file', join(dir, 'token')], {}, 2, /^myhero-ops: Grafana at http:\/\/127\.0\.0\.1:\d+ rejected the credentials while reading folder myhero \(401 Unauthorized: Unauthorized\); check --token-file, GRAFANA_TOKEN or --basic-auth-file\n$/],
      [['--url', `http://127.0.0.1:${await freePort()}`], { GRAFANA_TOKEN: TOKEN }, 3, /^myhero-ops: cannot reach Grafana at http:\/\/127\.0\.0\.1:\d+: [^\n]*ECONNREFUSED[^\n]*\n$/],
      [['--url', grafana.url.replace('http:', 'https:')], { GRAFANA_TOKEN: TOKEN }, 3, /^myhero-ops: TLS problem talking to Grafana at https:\/\/127\.0\.0\.1:\d+: the server does not answer TLS on this port [^\n]*\n$/],
    ];
    for (const [args, env, code, line] of cases) {
      const r = await run(['dashboards', 'push', ...args], env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: expect.stringMatching(line) });
      expect(r.stdout).toBe('');
      expect(`${r.stdout}${r.stderr}`).not.toContain('9f8e7d6c5b4a');
    }
  });

  it('push --dry-run reports what would change and changes nothing', async () => {
    grafana = await startGrafanaStandin({ token: TOKEN });
    const r = await run(['dashboards', 'push', '--url', grafana.url, '--dry-run'], { GRAFANA_TOKEN: TOKEN });
    expect(r.stdout).toMatch(new RegExp(`^dry run, nothing changed: ${N} dashboards in new folder "myhero": ${N} created, 0 updated, 0 unchanged$`, 'm'));
    expect(grafana.dashboards.size).toBe(0);
    expect(grafana.folders.size).toBe(0);
  });
});
