import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownMetrics } from '../../dashboards/lint.ts';
import { metricNames } from '../../dashboards/metric-names.ts';
import { runQueries, type QueryOutcome } from '../../dashboards/promql-check.ts';
import { buildDashboards } from '../../dashboards/registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { startExporter } from '../../exporters/server.ts';
import { installFakeVcgencmd } from '../../exporters/test/fixtures/fake-vcgencmd.ts';
import { makeSysfs } from '../../exporters/test/fixtures/sysfs.ts';
import { startLab, type Lab } from '../../lab/lab.ts';
import { startPrometheus, type RunningPrometheus } from '../../lab/promstack.ts';
import { EXTERNAL, LABELS, LOADTEST, PROMETHEUS, RPI, TWIN } from '../../lib/catalog.ts';
import { KEYS, LOOPBACK } from '../../lib/defaults.ts';
import { freePort } from '../../lib/net.ts';
import { runLoad } from '../../loadtests/engine.ts';
import { startLiveMetrics, type LiveMetrics } from '../../loadtests/metrics.ts';

// With the lab twin (one lab in queue mode, one in direct mode), the ARM
// exporter on a Pi 4 fixture and two short load tests running, all scraped by
// the real Debian Prometheus: every dashboard query that reads only the
// suite's own metrics (TWIN, LOADTEST, RPI, and `up` of their targets)
// returns data. Queries over kube-state-metrics, node-exporter, Traefik or
// Istio cannot have data here; they are checked for syntax in
// dashboards-promql.test.ts.

const OWN = new Set([...knownMetrics()].filter((m) => !Object.values(EXTERNAL).flat().includes(m as never)).concat(PROMETHEUS.up));

/** Prometheus static scrape configs, one job per twin service, the exporter and the load runner. */
function scrapeConfigs(targets: { job: string; url: string }[]) {
  const jobs = new Map<string, { targets: string[]; path: string }>();
  for (const t of targets) {
    const u = new URL(t.url);
    const job = jobs.get(t.job) ?? { targets: [], path: u.pathname };
    job.targets.push(u.host);
    jobs.set(t.job, job);
  }
  return [...jobs].map(([job, j]) => ({ job_name: job, metrics_path: j.path, static_configs: [{ targets: j.targets }] }));
}

let queueLab: Lab | undefined;
let directLab: Lab | undefined;
let exporter: { url: string; stop(): Promise<void> } | undefined;
let live: LiveMetrics | undefined;
let prom: RunningPrometheus | undefined;
let sysfs = '';

beforeAll(async () => {
  sysfs = mkdtempSync(join(tmpdir(), 'myhero-dash-pi-'));
  makeSysfs(sysfs, 'pi4');
  const vcgencmd = installFakeVcgencmd(sysfs, { mode: 'ok' });
  [queueLab, directLab, exporter, live] = await Promise.all([
    startLab({ mode: 'queue', dataPort: 0, appPort: 0, mqttPort: 0 }),
    startLab({ mode: 'direct', dataPort: 0, appPort: 0 }),
    startExporter({ host: LOOPBACK, port: 0, sysfsRoot: sysfs, vcgencmd: vcgencmd.path, vcgencmdCacheMs: 1000, collectors: ['cpu', 'thermal', 'freq', 'vcgencmd'] }),
    freePort().then((port) => startLiveMetrics(LOOPBACK, port)),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled([queueLab?.stop(), directLab?.stop(), exporter?.stop(), live?.close(), prom?.stop()]);
  if (sysfs) rmSync(sysfs, { recursive: true, force: true });
});

describe('dashboards against the running lab, exporter and load tests', () => {
  it('every query over the suite\'s own metrics returns data', { timeout: 240_000 }, async () => {
    const targets = [
      ...[queueLab!, directLab!].flatMap((lab) => lab.metricsTargets.map((t) => ({ job: `myhero-${t.service}`, url: t.url }))),
      { job: 'rpi-exporter', url: `${exporter!.url}/metrics` },
      { job: 'myhero-loadtest', url: live!.url },
    ];
    prom = await startPrometheus({ config: { global: { scrape_interval: '1s', scrape_timeout: '1s' }, scrape_configs: scrapeConfigs(targets) } });
    await prom.waitFor(`count(${PROMETHEUS.up} == 1)`, (s) => s[0]?.value === targets.length, 60_000);

    // Queue mode: votes accepted, published, processed, recorded; the runner reads the backlog from the twin.
    const queueRun = runLoad(
      {
        target: queueLab!.appUrl,
        key: KEYS.appDev,
        model: { kind: 'closed', voters: 4, thinkMs: 20 },
        durationMs: 4000,
        reconcile: false,
        twinMetrics: queueLab!.metricsTargets,
        workers: 1,
      },
      { onSample: (s) => live!.observe('queue', s) },
    );
    // Direct mode with data going away mid-run: "vote submission failed" on the app and vote_failed in the runner.
    const directRun = runLoad(
      {
        target: directLab!.appUrl,
        key: KEYS.appDev,
        model: { kind: 'closed', voters: 2, thinkMs: 50 },
        durationMs: 4000,
        reconcile: false,
        workers: 1,
      },
      { onSample: (s) => live!.observe('direct', s) },
    );
    await new Promise((r) => setTimeout(r, 1500));
    await directLab!.stopData();
    const [queued, direct] = await Promise.all([queueRun, directRun]);
    expect(queued.accepted).toBeGreaterThan(0);
    expect(direct.errors.vote_failed ?? 0).toBeGreaterThan(0);

    // Wait until Prometheus has scraped the runs' final counters.
    await prom.waitFor(`sum(${LOADTEST.errors}{${LABELS.errorClass}="vote_failed"})`, (s) => (s[0]?.value ?? 0) === direct.errors.vote_failed, 30_000);
    await prom.waitFor(`sum(${LOADTEST.votesAccepted})`, (s) => (s[0]?.value ?? 0) === queued.accepted + direct.accepted, 30_000);
    await prom.waitFor(`sum(${TWIN.votesFailed})`, (s) => (s[0]?.value ?? 0) > 0, 30_000);
    await prom.waitFor(`count(${RPI.throttled})`, (s) => (s[0]?.value ?? 0) > 0, 30_000);

    const dashboards = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' })).map((d) => ({ name: d.slug, json: d.json }));
    const outcomes = await runQueries(prom.url, dashboards, { substitution: { interval: '5s', rateInterval: '1m', range: '5m' } });
    const own = outcomes.filter((o) => metricNames(o.expr).every((m) => OWN.has(m)));
    const describe = (o: QueryOutcome) => `${o.dashboard} ${o.where}: ${o.error ?? `${o.series} series`}\n  ${o.sent}`;

    expect(outcomes.filter((o) => o.error).map(describe)).toEqual([]);
    expect(own.filter((o) => o.series === 0).map(describe)).toEqual([]);
    // Every dashboard is covered except workloads (kube-state-metrics only).
    expect(new Set(own.map((o) => o.dashboard))).toEqual(new Set(['pi-cluster', 'myhero-service', 'loadtest', 'gameday']));
    // Every panel that reads any of the suite's metrics shows something.
    const panels = new Map<string, QueryOutcome[]>();
    for (const o of outcomes.filter((o) => o.kind === 'panel')) panels.set(`${o.dashboard} ${o.panelId} ${o.panelTitle}`, [...(panels.get(`${o.dashboard} ${o.panelId} ${o.panelTitle}`) ?? []), o]);
    const fed = [...panels].filter(([, qs]) => qs.some((o) => metricNames(o.expr).some((m) => OWN.has(m) && m !== PROMETHEUS.up)));
    expect(fed.filter(([, qs]) => qs.every((o) => o.series === 0)).map(([panel]) => panel)).toEqual([]);
    expect(fed.length).toBeGreaterThanOrEqual(35);
  });
});
