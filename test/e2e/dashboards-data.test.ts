import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateDashboards, formatEvaluation, panelRows, refusedQueries, type DashboardEvaluation, type PanelRow } from '../../dashboards/evaluate.ts';
import { metricNames } from '../../dashboards/metric-names.ts';
import { buildDashboards } from '../../dashboards/registry.ts';
import { startExporter } from '../../exporters/server.ts';
import { installFakeVcgencmd } from '../../exporters/test/fixtures/fake-vcgencmd.ts';
import { NODE_COLLECTORS, startNodeExporter, type RunningNodeExporter } from '../../exporters/test/fixtures/node-exporter.ts';
import { makeProcfs } from '../../exporters/test/fixtures/procfs.ts';
import { makeSysfs, type Board } from '../../exporters/test/fixtures/sysfs.ts';
import { startLab, type Lab } from '../../lab/lab.ts';
import { startPrometheus, type RunningPrometheus } from '../../lib/promstack.ts';
import { LABELS, LOADTEST, PROMETHEUS, TWIN } from '../../lib/catalog.ts';
import { KEYS, LOOPBACK } from '../../lib/defaults.ts';
import { freePort } from '../../lib/net.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { prometheusApi } from '../../lib/prometheus-api.ts';
import { runLoad } from '../../loadtests/engine.ts';
import { startLiveMetrics, type LiveMetrics } from '../../loadtests/metrics.ts';

// The dashboards opened as Grafana opens them (variables resolved on the data
// source, macros computed), on real exporters under both label schemes users run:
//
// - three nodes on loopback: pi-node-1 (a Pi 4) and pi-node-2 (a Pi 3B), each with
//   the suite's exporter (fake vcgencmd) and a real node-exporter on a Pi-like
//   sysfs and procfs tree, and vm-node-3, an amd64 VM with node-exporter only.
//   Each node-exporter runs in its own UTS namespace, so it reports its node's
//   host name in node_uname_info{nodename} as on a real node;
// - Prometheus "kube-prometheus": `instance` = node name for both exporters (the
//   `__meta_kubernetes_pod_node_name → instance` relabeling of its
//   ServiceMonitors, fed here from a per-target label); it also scrapes the lab
//   twin (queue and direct mode) and the load runner's live metrics;
// - Prometheus "kube-prometheus-stack": the chart's defaults, node-exporter's
//   `instance` = the host's IP:9100 (192.168.1.1x:9100 set per target, as all run
//   on 127.0.0.1), the Pi exporter's = node name (what our ServiceMonitor sets on
//   any stack). No twin runs there: the negative control of the twin's panels.
//
// Every panel fed by these sources must show data with its variables at All, at
// one value and at two values ($node: one node, two nodes; $job: one service...);
// panels fed only by kube-state-metrics, Traefik or Istio (which cannot run here)
// are "not judged", and listed.

const NODES: { name: string; ip: string; board?: Board }[] = [
  { name: 'pi-node-1', ip: '192.168.1.11', board: 'pi4' },
  { name: 'pi-node-2', ip: '192.168.1.12', board: 'pi3b' },
  { name: 'vm-node-3', ip: '192.168.1.13' },
];
const UNRUNNABLE = new Set(['kube-state-metrics', 'Traefik', 'Istio']);
const dashboards = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' })).map((d) => ({ name: d.slug, json: d.json }));
/**
 * Every multi-value variable varied (the default), Grafana's data source "Scrape
 * interval" set to what these Prometheus servers use, and
 * the last 5 minutes as the time range: the data is seconds old, and Grafana aligns a
 * range query's end down to its step (10 s for a 1 h range on a narrow panel).
 */
const OPTIONS = { selections: ['all', 'one', 'two'], scrapeIntervalMs: 1000, rangeMs: 5 * 60_000 } as const;

interface Node {
  name: string;
  ip: string;
  dir: string;
  pi?: { url: string; stop(): Promise<void> };
  nodeExporter: RunningNodeExporter;
}

let nodes: Node[] = [];
let queueLab: Lab | undefined;
let directLab: Lab | undefined;
let live: LiveMetrics | undefined;
let kp: RunningPrometheus | undefined;
let kps: RunningPrometheus | undefined;

/** How to stop everything started so far, and the fixture directories: a start that fails half-way leaks nothing. */
const cleanups: (() => unknown)[] = [];
const dirs: string[] = [];
async function started<T>(starting: Promise<T>, stop: (t: T) => unknown): Promise<T> {
  const t = await starting;
  cleanups.push(() => stop(t));
  return t;
}
/** Promise.all, but failing only once every start has settled (and been registered for cleanup). */
async function all<const T extends readonly Promise<unknown>[]>(starts: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const failed = (await Promise.allSettled(starts)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return Promise.all(starts);
}

const hostOf = (url: string) => new URL(url).host;

/** One target per node, carrying the node's name and host IP as service discovery would. */
const nodeTargets = (url: (n: Node) => string | undefined) =>
  nodes.flatMap((n) => {
    const u = url(n);
    return u ? [{ targets: [hostOf(u)], labels: { __meta_node_name: n.name, __meta_host_ip: n.ip } }] : [];
  });
const instanceIsNodeName = [{ source_labels: ['__meta_node_name'], target_label: 'instance' }];
const instanceIsHostIp = [{ source_labels: ['__meta_host_ip'], target_label: 'instance', replacement: '$1:9100' }];

function piScrapeJobs(nodeExporterRelabeling: object[]) {
  return [
    { job_name: 'arm-exporter', static_configs: nodeTargets((n) => n.pi?.url), relabel_configs: instanceIsNodeName },
    { job_name: 'node-exporter', static_configs: nodeTargets((n) => n.nodeExporter.url), relabel_configs: nodeExporterRelabeling },
  ];
}

beforeAll(async () => {
  nodes = await all(
    NODES.map(async (spec) => {
      const dir = mkdtempSync(join(tmpdir(), `myhero-dash-${spec.name}-`));
      dirs.push(dir);
      makeProcfs(dir);
      // A VM has a sysfs without thermal zones.
      if (spec.board) makeSysfs(dir, spec.board);
      else mkdirSync(join(dir, 'sys/class/thermal'), { recursive: true });
      const vcgencmd = spec.board ? installFakeVcgencmd(dir, { mode: 'ok' }) : undefined;
      const [pi, nodeExporter] = await all([
        vcgencmd
          ? started(startExporter({ host: LOOPBACK, port: 0, sysfsRoot: dir, vcgencmd: vcgencmd.path, vcgencmdCacheMs: 1000, collectors: ['cpu', 'thermal', 'freq', 'vcgencmd'] }), (e) => e.stop())
          : Promise.resolve(undefined),
        started(startNodeExporter(dir, { collectors: NODE_COLLECTORS, procfsRoot: dir, nodename: spec.name }), (n) => n.stop()),
      ]);
      return { ...spec, dir, pi, nodeExporter };
    }),
  );
  const livePort = await freePort();
  [queueLab, directLab, live] = await all([
    started(startLab({ mode: 'queue', dataPort: 0, appPort: 0, mqttPort: 0 }), (l) => l.stop()),
    started(startLab({ mode: 'direct', dataPort: 0, appPort: 0 }), (l) => l.stop()),
    started(startLiveMetrics(LOOPBACK, livePort), (m) => m.close()),
  ]);
  const twinJobs = new Map<string, string[]>();
  for (const t of [queueLab!, directLab!].flatMap((lab) => lab.metricsTargets)) twinJobs.set(`myhero-${t.service}`, [...(twinJobs.get(`myhero-${t.service}`) ?? []), hostOf(t.url)]);
  const global = { scrape_interval: '1s', scrape_timeout: '1s' };
  [kp, kps] = await all([
    started(startPrometheus({
      config: {
        global,
        scrape_configs: [
          ...piScrapeJobs(instanceIsNodeName),
          ...[...twinJobs].map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
          { job_name: 'myhero-loadtest', metrics_path: new URL(live!.url).pathname, static_configs: [{ targets: [hostOf(live!.url)] }] },
        ],
      },
    }), (p) => p.stop()),
    started(startPrometheus({ config: { global, scrape_configs: piScrapeJobs(instanceIsHostIp) } }), (p) => p.stop()),
  ]);
  // Every target up: 2 Pi exporters and 3 node-exporters on both, plus the twin's and the runner's on kube-prometheus.
  const expected = 5 + [...twinJobs.values()].flat().length + 1;
  await Promise.all([
    kp.waitFor(`count(${PROMETHEUS.up} == 1)`, (s) => s[0]?.value === expected, 60_000),
    kps.waitFor(`count(${PROMETHEUS.up} == 1)`, (s) => s[0]?.value === 5, 60_000),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(cleanups.map(async (stop) => stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Every target scraped at least 5 times, so `rate` over `$__rate_interval` (4 s here) has samples wherever a test starts. */
const settled = (prom: RunningPrometheus) => prom.waitFor(`min(count_over_time(${PROMETHEUS.up}[1m]))`, (s) => (s[0]?.value ?? 0) >= 5, 30_000);

const describeRow = (r: PanelRow) => `${r.dashboard} "${r.title}" ${JSON.stringify(r.verdicts)} (${r.sources.join(', ')})`;
const evaluations: Record<string, DashboardEvaluation[]> = {};

/** Each panel: data in every selection, or not judged in every selection and fed only by exporters that cannot run here. */
function expectEveryPanelTruthful(evals: DashboardEvaluation[], notJudgedSources: Set<string>) {
  expect(refusedQueries(evals)).toEqual([]);
  const rows = panelRows(evals);
  const wrong = rows.filter((r) => {
    const verdicts = Object.values(r.verdicts);
    if (verdicts.length !== 3) return true;
    if (verdicts.every((v) => v === 'data')) return false;
    return !(verdicts.every((v) => v === 'not judged') && r.sources.every((s) => notJudgedSources.has(s)));
  });
  expect(wrong.map(describeRow)).toEqual([]);
  return rows;
}

const nodeOptions = (e: DashboardEvaluation[]) => e.find((d) => d.name === 'pi-cluster')!.selections[0]!.variables.find((v) => v.name === 'node')!.options;
const picked = (e: DashboardEvaluation[]) => e.find((d) => d.name === 'pi-cluster')!.selections.map((s) => `${s.kind}: ${s.picked.node}`);

describe('dashboards on real exporters, opened as Grafana opens them', () => {
  it('kube-prometheus (instance = node name): every panel fed by the twin, the load runner, the Pi exporter or node-exporter has data with All, one node and two nodes', { timeout: 120_000 }, async () => {
    // Queue mode: votes accepted, published, processed, recorded; the runner reads the backlog from the twin.
    const queueRun = runLoad(
      { target: queueLab!.appUrl, key: KEYS.appDev, model: { kind: 'closed', voters: 4, thinkMs: 20 }, durationMs: 4000, reconcile: false, twinMetrics: queueLab!.metricsTargets, workers: 1 },
      { onSample: (s) => live!.observe('queue', s) },
    );
    // Direct mode with data going away mid-run: "vote submission failed" on the app and vote_failed in the runner.
    const directRun = runLoad(
      { target: directLab!.appUrl, key: KEYS.appDev, model: { kind: 'closed', voters: 2, thinkMs: 50 }, durationMs: 4000, reconcile: false, workers: 1 },
      { onSample: (s) => live!.observe('direct', s) },
    );
    await new Promise((r) => setTimeout(r, 1500));
    await directLab!.stopData();
    const [queued, direct] = await Promise.all([queueRun, directRun]);
    expect(queued.accepted).toBeGreaterThan(0);
    expect(direct.errors.vote_failed ?? 0).toBeGreaterThan(0);
    await kp!.waitFor(`sum(${LOADTEST.errors}{${LABELS.errorClass}="vote_failed"})`, (s) => (s[0]?.value ?? 0) === direct.errors.vote_failed, 30_000);
    await kp!.waitFor(`sum(${LOADTEST.votesAccepted})`, (s) => (s[0]?.value ?? 0) === queued.accepted + direct.accepted, 30_000);
    await kp!.waitFor(`sum(${TWIN.votesFailed})`, (s) => (s[0]?.value ?? 0) > 0, 30_000);

    await settled(kp!);
    const api = prometheusApi(kp!.url);
    const evals = await evaluateDashboards(api, dashboards, OPTIONS);
    evaluations['kube-prometheus'] = evals;
    const rows = expectEveryPanelTruthful(evals, UNRUNNABLE);
    expect(nodeOptions(evals)).toEqual(['pi-node-1', 'pi-node-2', 'vm-node-3']);
    expect(picked(evals)).toEqual(['all: All', 'one: pi-node-1', 'two: pi-node-1|pi-node-2']);
    expect(rows.filter((r) => r.verdicts.all === 'data').length).toBeGreaterThanOrEqual(40);

    // Stricter than per panel: every query whose metrics all have series returns data.
    const present = new Set((await api.labelValues('__name__', { start: Math.floor(Date.now() / 1000) - 3600, end: Math.ceil(Date.now() / 1000) })).items);
    const empty = evals.flatMap((e) =>
      e.selections.flatMap((s) =>
        s.panels.flatMap((p) =>
          p.queries.filter((q) => q.series === 0 && metricNames(q.expr).every((m) => present.has(m))).map((q) => `${e.name} ${s.kind} "${p.title}" ${q.ref}: ${q.sent}`),
        ),
      ),
    );
    expect(empty).toEqual([]);
  });

  it('kube-prometheus-stack defaults (node-exporter instance = IP:9100): the node-exporter and Pi panels still fill for All, one and two nodes; the twin\'s show nothing', { timeout: 60_000 }, async () => {
    await settled(kps!);
    const evals = await evaluateDashboards(prometheusApi(kps!.url), dashboards, OPTIONS);
    evaluations['kube-prometheus-stack'] = evals;
    // Here the twin and the load runner are not running either: their panels are not judged, never "data".
    const rows = expectEveryPanelTruthful(evals, new Set([...UNRUNNABLE, 'twin', 'load runner']));
    expect(nodeOptions(evals)).toEqual(['pi-node-1', 'pi-node-2', 'vm-node-3']);
    expect(picked(evals)).toEqual(['all: All', 'one: pi-node-1', 'two: pi-node-1|pi-node-2']);
    const pi = rows.filter((r) => r.dashboard === 'pi-cluster');
    expect(pi.filter((r) => r.sources.includes('node-exporter')).length).toBeGreaterThanOrEqual(7);
    expect(pi.filter((r) => Object.values(r.verdicts).some((v) => v !== 'data')).map(describeRow)).toEqual([]);

    // Negative control: with no twin running, "Twin targets up" shows none; All as `.*` would have counted every target.
    const gameday = evals.find((e) => e.name === 'gameday')!;
    const twinUp = gameday.selections[0]!.panels.find((p) => p.title === 'Twin targets up')!.queries[0]!;
    expect(twinUp.sent).toBe(`sum(${PROMETHEUS.up}{job=~"()", namespace=~".*"})`);
    expect(await kps!.query(twinUp.sent)).toEqual([]);
    expect(await kps!.query(twinUp.sent.replace('job=~"()"', 'job=~".*"'))).toEqual([{ metric: {}, value: 5 }]);
  });

  it('a node without the Pi exporter (amd64) can be picked: its node-exporter panels fill, its Pi panels are empty', { timeout: 60_000 }, async () => {
    for (const prom of [kp!, kps!]) {
      await settled(prom);
      const [e] = await evaluateDashboards(prometheusApi(prom.url), dashboards.filter((d) => d.name === 'pi-cluster'), { ...OPTIONS, selections: ['all'], fixed: { node: ['vm-node-3'] } });
      const rows = panelRows([e!]);
      const bySource = (s: string) => rows.filter((r) => r.sources.length === 1 && r.sources[0] === s).map((r) => r.verdicts.all);
      expect(new Set(bySource('node-exporter'))).toEqual(new Set(['data']));
      expect(new Set(bySource('Pi exporter'))).toEqual(new Set(['no data']));
    }
  });

  it('negative control: with the Pi exporter of pi-node-2 stopped, "Exporter targets up" shows 0 for it, 1 for pi-node-1, and no other job', { timeout: 60_000 }, async () => {
    await nodes[1]!.pi!.stop();
    for (const prom of [kp!, kps!]) {
      await prom.waitFor(`${PROMETHEUS.up}{job="arm-exporter", instance="pi-node-2"}`, (s) => s[0]?.value === 0, 20_000);
      const [e] = await evaluateDashboards(prometheusApi(prom.url), dashboards.filter((d) => d.name === 'pi-cluster'), { ...OPTIONS, selections: ['all', 'two'] });
      for (const s of e!.selections) {
        const sent = s.panels.find((p) => p.title === 'Exporter targets up')!.queries[0]!.sent;
        const now = (await prom.query(sent)).map((x) => `${x.metric.node} ${x.metric.job} ${x.value}`).sort();
        expect(now, `${s.kind}: ${sent}`).toEqual(['pi-node-1 arm-exporter 1', 'pi-node-2 arm-exporter 0']);
      }
    }
  });
});

afterAll(() => {
  // `MYHERO_DASHBOARD_REPORT=file npx vitest run test/e2e/dashboards-data.test.ts` keeps the evaluator's reports (dashboards/README.md summarises them).
  const out = process.env.MYHERO_DASHBOARD_REPORT;
  if (out) writeFileSync(out, Object.entries(evaluations).map(([scheme, e]) => `## ${scheme}\n\n${formatEvaluation(e)}\n`).join('\n'));
});
