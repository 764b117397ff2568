import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateDashboards, refusedQueries } from '../../dashboards/evaluate.ts';
import { SOURCES, SOURCE_VAR } from '../../dashboards/exprs.ts';
import { buildDashboards } from '../../dashboards/registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { startPrometheus, type RunningPrometheus } from '../../lib/promstack.ts';
import { prometheusApi } from '../../lib/prometheus-api.ts';
import { runCli } from '../fixtures/cli.ts';

// Every PromQL expression of every dashboard (panels, variable queries,
// annotations), variables resolved and macros computed as Grafana does, sent to
// the real Debian Prometheus (empty: this is about parsing and executing): a
// query it refuses fails. The same through `dashboards lint --prometheus`.

const dashboards = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' })).map((d) => ({ name: d.slug, json: d.json }));

const lint = (args: string[]) => runCli(['dashboards', 'lint', ...args]);

let prom: RunningPrometheus;
beforeAll(async () => {
  prom = await startPrometheus({ config: { global: { scrape_interval: '1s' }, scrape_configs: [] } });
});
afterAll(async () => {
  await prom?.stop();
});

describe('every dashboard query on a real Prometheus', () => {
  it.each(SOURCES)(`parses and runs with $${SOURCE_VAR}=%s, over 6 h with a 30 s scrape interval`, async (source) => {
    const evals = await evaluateDashboards(prometheusApi(prom.url), dashboards, { fixed: { [SOURCE_VAR]: source }, rangeMs: 6 * 3_600_000, scrapeIntervalMs: 30_000 });
    expect(refusedQueries(evals)).toEqual([]);
    const sent = evals.flatMap((e) => e.selections.flatMap((s) => [...s.variables.map((v) => v.sent), ...s.panels.flatMap((p) => p.queries.map((q) => q.sent)), ...s.annotations.map((a) => a.sent)]));
    expect(sent.length).toBeGreaterThan(90);
    // No Grafana macro or variable is left for Prometheus to choke on (label_replace's "$1" is PromQL's own).
    expect(sent.filter((q) => /\$(__|\{|[a-z])/.test(q.replace(/"\$1"/g, '')))).toEqual([]);
    expect(sent.filter((q) => q.includes('[360s]') || q.includes('[21600s]')).length).toBeGreaterThan(0);
  });

  it('catches what Prometheus refuses, with its own message', async () => {
    const broken = structuredClone(dashboards[0]!.json) as { panels: { type: string; targets?: { expr: string }[] }[] };
    broken.panels.find((p) => p.type !== 'row')!.targets![0]!.expr = 'sum(rate(up[$__rate_interval])'; // unbalanced
    const evals = await evaluateDashboards(prometheusApi(prom.url), [{ name: 'broken', json: broken }]);
    expect(refusedQueries(evals).map((r) => r.error)).toEqual([expect.stringMatching(/^bad_data: .*parse error/)]);
  });

  it('`dashboards lint --prometheus URL` runs them all and passes', { timeout: 60_000 }, async () => {
    const r = await lint(['--prometheus', prom.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^5 dashboard\\(s\\), \\d+ queries run on ${prom.url.replace(/[.]/g, '\\.')}: clean\\n$`));
  });

  it('`--data` on a Prometheus where nothing the dashboards read exists judges nothing and exits 3', { timeout: 60_000 }, async () => {
    const r = await lint(['--prometheus', prom.url, '--data', '--selections', 'all']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/0 of 58 panels judged \(58 not judged: what they read has no series there\): clean\n$/);
    expect(r.stderr).toMatch(/^no panel could be judged: /m);
  });

  it('bad input exits 2 with one line', async () => {
    for (const args of [['--data'], ['--prometheus', prom.url, '--var', 'node']]) {
      const r = await lint(args);
      expect([r.code, r.stderr.trim().split('\n').length], args.join(' ')).toEqual([2, 1]);
    }
  });
});
