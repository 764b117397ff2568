import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RPI } from '../../lib/catalog.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { SUITE_TAG, dashboardPath } from '../links.ts';
import { lintDashboards } from '../lint.ts';
import { KUBERNETES_DIR, packageDashboards } from '../package.ts';
import { DASHBOARDS, buildDashboards, type BuildDashboard, type DashboardRow } from '../registry.ts';
import { newDashboard, q, thermalSteps, timeseries, units } from '../toolkit.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// A sixth dashboard is one builder (its own file in dashboards/) plus one row in
// registry.ts's table. Here both live in the test only: nothing else is touched,
// and the dashboard still comes out built, linked and packaged.

const cfg = defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' });

const heatBuilder: BuildDashboard = (_cfg, head) =>
  newDashboard(head, { description: 'A test-only sixth dashboard: the hottest Pi.', tags: ['test'], variables: [] }).withPanel(
    timeseries({
      title: 'Hottest Pi',
      description: 'The highest CPU temperature of any node.',
      unit: units.Celsius,
      queries: [q(`max(${RPI.cpuTemperature})`, 'hottest')],
      thresholds: thermalSteps(),
    }),
  );

const heat: DashboardRow = { key: 'heat', uid: 'myhero-heat', slug: 'heat', title: 'myhero / Heat', related: ['piCluster', 'gameday'], build: heatBuilder };
const row = (key: string) => DASHBOARDS.find((r) => r.key === key)!;

describe('the dashboard table', () => {
  it('takes a sixth dashboard as one more row: built, linked both ways, linted clean and packaged', () => {
    // Game day also gets the new dashboard in its related list: one edit of its row.
    const table = [...DASHBOARDS.map((r) => (r.key === 'gameday' ? { ...r, related: [...r.related, 'heat'] } : r)), heat];
    const built = buildDashboards(cfg, table);

    expect(built.map((d) => d.key)).toEqual([...DASHBOARDS.map((r) => r.key), 'heat']);
    const mine = built.at(-1)!;
    expect(mine).toMatchObject({ uid: 'myhero-heat', slug: 'heat', title: 'myhero / Heat' });
    expect(mine.json).toMatchObject({ uid: 'myhero-heat', title: 'myhero / Heat', tags: [SUITE_TAG, 'test'] });
    expect((mine.json.panels as Json[]).map((p) => [p.id, p.title])).toEqual([[1, 'Hottest Pi']]);
    expect(lintDashboards(built.map((d) => ({ name: d.slug, json: d.json })))).toEqual([]);

    const linkUrls = (d: Json) => (d.links as Json[]).filter((l) => l.url?.startsWith('/d/')).map((l) => l.url);
    expect(linkUrls(mine.json)).toEqual([dashboardPath(row('piCluster')), dashboardPath(row('gameday'))]);
    expect(linkUrls(built.find((d) => d.key === 'gameday')!.json)).toContain('/d/myhero-heat/heat');
    // The dropdown of all suite dashboards finds it by the tag every row gets.
    expect(mine.json.links).toContainEqual(expect.objectContaining({ type: 'dashboards', tags: [SUITE_TAG] }));

    // The other five are exactly what the suite's own table builds, but for game day's extra link.
    const suite = buildDashboards(cfg);
    for (const d of suite.filter((d) => d.key !== 'gameday')) expect(built.find((b) => b.key === d.key)).toEqual(d);

    const files = packageDashboards(built, { folder: 'myhero', namespace: 'monitoring', provisioningPath: '/var/lib/grafana/dashboards/myhero' });
    const file = (path: string) => files.find((f) => f.path === path)?.content;
    expect(JSON.parse(file('heat.json')!)).toEqual(mine.json);
    const cm = parse(file(`${KUBERNETES_DIR}/grafana-dashboard-heat.yaml`)!) as Json;
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'grafana-dashboard-heat', labels: { grafana_dashboard: '1' } } });
    expect(cm.data['heat.json']).toBe(file('heat.json'));
    expect((parse(file(`${KUBERNETES_DIR}/kustomization.yaml`)!) as Json).resources).toContain('grafana-dashboard-heat.yaml');
  });

  it.each<[string, DashboardRow[], RegExp]>([
    ['a related key not in the table', [{ ...heat, related: ['piCluster', 'heatmap'] }], /heat: related "heatmap" is not in the table/],
    ['a dashboard related to itself', [{ ...heat, related: ['heat'] }], /heat: related "heat" is itself/],
    ['a uid used twice', [{ ...heat, uid: 'myhero-gameday' }], /uid "myhero-gameday" is used twice/],
    ['a slug used twice', [{ ...heat, slug: 'loadtest' }], /slug "loadtest" is used twice/],
    ['a key used twice', [{ ...heat, key: 'service' }], /key "service" is used twice/],
    ['a uid Grafana refuses', [{ ...heat, uid: 'myhero heat dashboard with a far too long uid' }], /heat: uid .* is not 1-40 of/],
    ['a slug that is no file or ConfigMap name', [{ ...heat, slug: 'Heat Map' }], /heat: slug "Heat Map" is not lowercase/],
  ])('refuses %s, naming it', (_what, extra, message) => {
    expect(() => buildDashboards(cfg, [...DASHBOARDS, ...extra])).toThrow(message);
  });
});
