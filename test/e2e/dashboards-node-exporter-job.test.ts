import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricNames } from '../../dashboards/metric-names.ts';
import { runQueries } from '../../dashboards/promql-check.ts';
import { buildDashboards } from '../../dashboards/registry.ts';
import { startNodeExporter, type RunningNodeExporter } from '../../exporters/test/fixtures/node-exporter.ts';
import { makeSysfs } from '../../exporters/test/fixtures/sysfs.ts';
import { startPrometheus, type RunningPrometheus } from '../../lab/promstack.ts';
import { NODE } from '../../lib/catalog.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';

// Issue 16 defect 4: a second scrape job of the same node-exporter (a user's own
// job beside the stack's) gives every node_* series a twin with the same
// instance, and `/ on (instance)` then fails with duplicate series. The Pi
// dashboard's node-exporter queries carry the configured job, so they keep
// working; the same queries without the job matcher fail on the real Prometheus.

const STACK_JOB = 'node-exporter';
const NODE_METRICS = new Set<string>(Object.values(NODE));

let sysfs = '';
let node: RunningNodeExporter | undefined;
let prom: RunningPrometheus | undefined;

beforeAll(async () => {
  sysfs = mkdtempSync(join(tmpdir(), 'node-job-'));
  makeSysfs(sysfs, 'pi4');
  node = await startNodeExporter(sysfs, ['thermal_zone', 'cpu', 'loadavg', 'meminfo', 'uname']);
  const target = new URL(node.url).host;
  prom = await startPrometheus({
    config: {
      global: { scrape_interval: '1s' },
      scrape_configs: [STACK_JOB, 'node-extra'].map((job) => ({ job_name: job, static_configs: [{ targets: [target] }] })),
    },
  });
  await prom.waitFor('count(up == 1)', (s) => s[0]?.value === 2, 30_000);
  // Two scrapes of each job, so the rates have data.
  await prom.waitFor(`count(rate(${NODE.cpuSeconds}{mode="idle"}[1m]))`, (s) => (s[0]?.value ?? 0) > 0, 30_000);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([prom?.stop(), node?.stop()]);
  if (sysfs) rmSync(sysfs, { recursive: true, force: true });
});

describe('node-exporter queries with a second node-exporter job on the same instance', () => {
  const pi = buildDashboards(defaultMonitoring({ nodeExporterJob: STACK_JOB })).find((d) => d.key === 'piCluster')!;
  const opts = { substitution: { interval: '5s', rateInterval: '1m', range: '5m' } };

  it("run without error and with data, selecting the configured job's series only", async () => {
    const outcomes = (await runQueries(prom!.url, [{ name: pi.slug, json: pi.json }], opts)).filter(
      (o) => o.kind === 'panel' && metricNames(o.expr).some((m) => NODE_METRICS.has(m)),
    );
    // CPU utilisation, load per core (2 queries), memory; the rest need collectors not enabled here.
    expect(outcomes.length).toBeGreaterThanOrEqual(8);
    expect(outcomes.filter((o) => o.error).map((o) => `${o.where}: ${o.error}`)).toEqual([]);
    const fed = outcomes.filter((o) => ['CPU utilisation', 'Load per core', 'Memory utilisation'].includes(o.panelTitle ?? ''));
    expect(fed).toHaveLength(4);
    for (const o of fed) expect(o.series, o.where).toBe(1);
  });

  it('fail on the real Prometheus without the job matcher (negative control)', async () => {
    const withoutJob = JSON.parse(JSON.stringify(pi.json).replaceAll(`job=\\"${STACK_JOB}\\", `, '')) as unknown;
    const outcomes = await runQueries(prom!.url, [{ name: pi.slug, json: withoutJob }], opts);
    // `/ on (instance)` fails ("multiple matches for labels: many-to-one matching must be explicit"); a plain division matches per job and shows every node twice.
    const failed = outcomes.filter((o) => o.error);
    expect(failed.map((o) => o.panelTitle)).toEqual(['Load per core', 'Load per core']);
    for (const o of failed) expect(o.error).toMatch(/multiple matches for labels|duplicate series/);
    expect(outcomes.find((o) => o.panelTitle === 'Memory utilisation')!.series).toBe(2);
  });
});
