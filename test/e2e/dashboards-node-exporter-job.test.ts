import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateDashboards, refusedQueries } from '../../dashboards/evaluate.ts';
import { metricNames } from '../../dashboards/metric-names.ts';
import { buildDashboards } from '../../dashboards/registry.ts';
import { startNodeExporter, type RunningNodeExporter } from '../../exporters/test/fixtures/node-exporter.ts';
import { makeSysfs } from '../../exporters/test/fixtures/sysfs.ts';
import { startPrometheus, type RunningPrometheus } from '../../lib/promstack.ts';
import { NODE } from '../../lib/catalog.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { prometheusApi } from '../../lib/prometheus-api.ts';

// Issue 16 defect 4: a second scrape job of the same node-exporter (a user's own
// job beside the stack's) gives every node_* series a twin with the same
// instance, and `on (instance)` then fails with duplicate series. The Pi
// dashboard's node-exporter queries (and their join through node_uname_info)
// carry the configured job, so they keep working; the same queries without the
// job matcher fail on the real Prometheus. The dashboard is opened by the
// evaluator, as Grafana would open it.

const STACK_JOB = 'node-exporter';
const NODE_METRICS = new Set<string>(Object.values(NODE));

let sysfs = '';
let node: RunningNodeExporter | undefined;
let prom: RunningPrometheus | undefined;

beforeAll(async () => {
  sysfs = mkdtempSync(join(tmpdir(), 'node-job-'));
  makeSysfs(sysfs, 'pi4');
  node = await startNodeExporter(sysfs, { collectors: ['thermal_zone', 'cpu', 'loadavg', 'meminfo', 'uname'] });
  const target = new URL(node.url).host;
  prom = await startPrometheus({
    config: {
      global: { scrape_interval: '1s' },
      scrape_configs: [STACK_JOB, 'node-extra'].map((job) => ({ job_name: job, static_configs: [{ targets: [target] }] })),
    },
  });
  await prom.waitFor('count(up == 1)', (s) => s[0]?.value === 2, 30_000);
  // Five scrapes of each job, so a range query's last aligned step still has two samples in its
  // $__rate_interval (4 s here): with only two, the step before "now" could hold one and the rate be empty.
  await prom.waitFor(`min(count_over_time(${NODE.cpuSeconds}{mode="idle"}[1m]))`, (s) => (s[0]?.value ?? 0) >= 5, 30_000);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([prom?.stop(), node?.stop()]);
  if (sysfs) rmSync(sysfs, { recursive: true, force: true });
});

describe('node-exporter queries with a second node-exporter job on the same instance', () => {
  const pi = buildDashboards(defaultMonitoring({ nodeExporterJob: STACK_JOB })).find((d) => d.key === 'piCluster')!;
  const open = async (json: unknown) => {
    const [e] = await evaluateDashboards(prometheusApi(prom!.url), [{ name: pi.slug, json }], { rangeMs: 5 * 60_000, scrapeIntervalMs: 1000 });
    return e!;
  };
  const nodePanels = (e: Awaited<ReturnType<typeof open>>) =>
    e.selections[0]!.panels.flatMap((p) => p.queries.filter((q) => metricNames(q.expr).some((m) => NODE_METRICS.has(m))).map((q) => ({ panel: p.title, ...q })));

  it("run without error and with data, selecting the configured job's series only", async () => {
    const e = await open(pi.json);
    const outcomes = nodePanels(e);
    // CPU utilisation, load per core (2 queries), memory; the rest need collectors not enabled here.
    expect(outcomes.length).toBeGreaterThanOrEqual(8);
    expect(refusedQueries([e])).toEqual([]);
    const fed = outcomes.filter((o) => ['CPU utilisation', 'Load per core', 'Memory utilisation'].includes(o.panel));
    expect(fed).toHaveLength(4);
    for (const o of fed) expect(o.series, `${o.panel} ${o.ref}`).toBe(1);
  });

  it('fail on the real Prometheus without the job matcher (negative control)', async () => {
    const withoutJob = JSON.parse(JSON.stringify(pi.json).replaceAll(`job=\\"${STACK_JOB}\\", `, '').replaceAll(`{job=\\"${STACK_JOB}\\"}`, '')) as unknown;
    const e = await open(withoutJob);
    // Each node-exporter series and node_uname_info now come twice per instance (one per job): `on (instance)` fails
    // ("multiple matches for labels" / "found duplicate series"), for every panel that has node-exporter series here.
    const failed = nodePanels(e).filter((o) => o.error);
    expect([...new Set(failed.map((o) => o.panel))].sort()).toEqual(['CPU utilisation', 'Load per core', 'Memory utilisation', 'Thermal zones']);
    for (const o of failed) expect(o.error).toMatch(/multiple matches for labels|duplicate series/);
  });
});
