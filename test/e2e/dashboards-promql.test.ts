import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCES, SOURCE_VAR } from '../../dashboards/exprs.ts';
import { runQueries } from '../../dashboards/promql-check.ts';
import { buildDashboards } from '../../dashboards/registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { startPrometheus, type RunningPrometheus } from '../../lab/promstack.ts';

// Every PromQL expression of every dashboard (panels, variable queries,
// annotations), with Grafana's macros and variables substituted, sent to the
// real Debian Prometheus: a parse or execution error fails.

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'myhero-ops');
const dashboards = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' })).map((d) => ({ name: d.slug, json: d.json }));

let prom: RunningPrometheus;
beforeAll(async () => {
  prom = await startPrometheus({ config: { global: { scrape_interval: '1s' }, scrape_configs: [] } });
});
afterAll(async () => {
  await prom?.stop();
});

describe('every dashboard query on a real Prometheus', () => {
  it.each(SOURCES)(`parses and runs with $${SOURCE_VAR}=%s and the macros Grafana would fill in`, async (source) => {
    const outcomes = await runQueries(prom.url, dashboards, {
      variables: { [SOURCE_VAR]: source },
      substitution: { interval: '30s', rateInterval: '2m', range: '6h' },
    });
    expect(outcomes.filter((o) => o.error).map((o) => `${o.dashboard} ${o.where}: ${o.error}\n  ${o.sent}`)).toEqual([]);
    // Nothing is left for Prometheus to choke on: no Grafana macro or variable survives substitution.
    expect(outcomes.filter((o) => /\$(__|\{|[a-z])/.test(o.sent.replace(/"\$1"/g, '')))).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(90);
    expect(new Set(outcomes.map((o) => o.kind))).toEqual(new Set(['panel', 'variable', 'annotation']));
  });

  it('catches what Prometheus refuses, with its own message', async () => {
    const broken = structuredClone(dashboards[0]!.json) as { panels: { type: string; targets?: { expr: string }[] }[] };
    broken.panels.find((p) => p.type !== 'row')!.targets![0]!.expr = 'sum(rate(up[$__rate_interval])'; // unbalanced
    const outcomes = await runQueries(prom.url, [{ name: 'broken', json: broken }]);
    expect(outcomes.filter((o) => o.error).map((o) => o.error)).toEqual([expect.stringMatching(/^bad_data: .*parse error/)]);
  });

  it('`dashboards lint --prometheus URL` runs them all and passes', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'dashboards', 'lint', '--prometheus', prom.url]);
    expect(stdout).toMatch(new RegExp(`^5 dashboard\\(s\\), \\d+ queries run on ${prom.url.replace(/[.]/g, '\\.')}: clean\\n$`));
  });
});
