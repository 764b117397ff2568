import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PI_THERMAL } from '../../lib/defaults.ts';
import { knownMetrics } from '../lint.ts';
import { SUITE_TAG, dashboardPath } from '../links.ts';
import { allPanels, asArray } from '../queries.ts';
import { DASHBOARDS, buildDashboards } from '../registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ROOT = join(import.meta.dirname, '..', '..');
const RUNBOOKS = 'https://git.example.com/myhero-ops/blob/main/alerts/runbooks';
const built = () => buildDashboards(defaultMonitoring({ runbookBaseUrl: RUNBOOKS }));
const panelsOf = (d: Json): Json[] => allPanels(d) as Json[];

describe('building the dashboards', () => {
  // How long the build takes is measured by `npm run bench:dashboards` (BENCHMARKS.md), not here.
  it('builds every dashboard of the table, identically every time', () => {
    const first = built();
    expect(first.map((d) => d.key)).toEqual(DASHBOARDS.map((r) => r.key));
    expect(built()).toEqual(first);
  });

  it('keeps the uids and slugs it has shipped: bookmarks, links and push key on them', () => {
    expect(DASHBOARDS.map((r) => [r.uid, r.slug])).toEqual(
      expect.arrayContaining([
        ['myhero-pi-cluster', 'pi-cluster'],
        ['myhero-service', 'myhero-service'],
        ['myhero-workloads', 'workloads-autoscaling'],
        ['myhero-loadtest', 'loadtest'],
        ['myhero-gameday', 'gameday'],
      ]),
    );
  });

  it("gives each dashboard its row's uid, title, the suite tag and links to its related dashboards in order", () => {
    for (const [i, d] of built().entries()) {
      const row = DASHBOARDS[i]!;
      expect(d.json).toMatchObject({ uid: row.uid, title: row.title });
      expect(d.json.tags?.[0]).toBe(SUITE_TAG);
      expect(new Set(d.json.tags).size, `${d.slug} repeats a tag`).toBe(d.json.tags?.length);
      const direct = (asArray(d.json.links) as Json[]).filter((l) => l.url?.startsWith('/d/'));
      const related = row.related.map((k) => DASHBOARDS.find((r) => r.key === k)!);
      expect(direct.map((l) => [l.title, l.url])).toEqual(related.map((r) => [r.title, dashboardPath(r)]));
    }
  });

  it('points every panel and query at the $datasource variable', () => {
    for (const d of built()) {
      for (const p of panelsOf(d.json).filter((p) => p.type !== 'row')) {
        expect(p.datasource, `${d.slug} ${p.title}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  it('colours every temperature panel with the Pi thermal bands from lib/defaults.ts', () => {
    const temperaturePanels = built().flatMap((d) => panelsOf(d.json).filter((p) => p.fieldConfig?.defaults?.unit === 'celsius'));
    expect(temperaturePanels.length).toBeGreaterThanOrEqual(5);
    for (const p of temperaturePanels) {
      expect(p.fieldConfig.defaults.thresholds.steps.map((s: Json) => s.value)).toEqual([
        null,
        PI_THERMAL.softLimit,
        PI_THERMAL.warning,
        PI_THERMAL.throttle,
      ]);
    }
  });

  it('links only to runbooks that exist in alerts/runbooks and to dashboards that exist', () => {
    const uids = new Set(DASHBOARDS.map((d) => d.uid));
    const runbookLinks = new Set<string>();
    for (const d of built()) {
      const dashLinks = asArray(d.json.links) as Json[];
      expect(dashLinks.some((l) => l.type === 'dashboards' && l.tags.includes('myhero'))).toBe(true);
      for (const l of dashLinks.filter((l) => l.url?.startsWith('/d/'))) expect(uids).toContain(l.url.split('/')[2]);
      for (const p of panelsOf(d.json)) for (const l of p.links ?? []) runbookLinks.add(l.url);
    }
    expect(runbookLinks.size).toBeGreaterThanOrEqual(15);
    for (const url of runbookLinks) {
      expect(url.startsWith(`${RUNBOOKS}/`)).toBe(true);
      const file = join(ROOT, 'alerts', 'runbooks', url.slice(RUNBOOKS.length + 1));
      expect(existsSync(file), `${url} has no runbook ${file}`).toBe(true);
    }
  });

  it('has no metric name written as a literal in the dashboard code (all come from lib/catalog.ts)', () => {
    const dir = join(ROOT, 'dashboards');
    const sources = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')] as const);
    const metrics = [...knownMetrics()];
    for (const [file, text] of sources) {
      for (const m of metrics) {
        // Short names (up, ALERTS) are also ordinary words: look for them used as selectors.
        const pattern = m.includes('_')
          ? new RegExp(`(?<![A-Za-z0-9_:$.{])${m}(?![A-Za-z0-9_:])`)
          : new RegExp(`\\b${m}\\s*[{[]`);
        expect(pattern.test(text), `${file} writes the metric name ${m}`).toBe(false);
      }
    }
  });
});
