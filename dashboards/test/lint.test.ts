import { describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { RULES, lintDashboard, lintDashboards, type Rule } from '../lint.ts';
import { buildDashboards } from '../registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const built = () => buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' }));
/** A fresh deep copy of the service dashboard to break in one way. */
const service = (): Json => structuredClone(built()[1]!.json) as Json;
const rulesOf = (dash: unknown) => [...new Set(lintDashboard(dash, 'test').map((f) => f.rule))];
const firstPanel = (d: Json) => d.panels.find((p: Json) => p.type !== 'row');

describe('dashboards lint', () => {
  it('finds nothing in the dashboards the suite builds', () => {
    expect(lintDashboards(built().map((d) => ({ name: d.slug, json: d.json })))).toEqual([]);
  });

  const breakages: [Rule, (d: Json) => void][] = [
    ['uid', (d) => delete d.uid],
    ['uid', (d) => (d.uid = 'has spaces and is far too long for a grafana uid!')],
    ['datasource-variable', (d) => (d.templating.list = d.templating.list.filter((v: Json) => v.type !== 'datasource'))],
    ['datasource-ref', (d) => (firstPanel(d).datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' })],
    ['datasource-ref', (d) => (firstPanel(d).targets[0].datasource = 'Prometheus')],
    ['datasource-ref', (d) => (d.templating.list.find((v: Json) => v.type === 'query').datasource = { uid: 'abc' })],
    ['description', (d) => delete firstPanel(d).description],
    ['unit', (d) => delete firstPanel(d).fieldConfig.defaults.unit],
    ['query', (d) => (firstPanel(d).targets = [])],
    ['panel-id', (d) => (d.panels[2].id = d.panels[1].id)],
    ['panel-id', (d) => delete d.panels[1].id],
    ['metric', (d) => (firstPanel(d).targets[0].expr = `rate(${TWIN.httpRequests}[5m]) / rate(made_up_metric_total[5m])`)],
    ['metric', (d) => (d.templating.list.find((v: Json) => v.name === 'job').query = 'label_values(unknown_series, job)')],
    ['thermal-bands', (d) => (firstPanel(d).fieldConfig.defaults.unit = 'celsius')],
    ['layout', (d) => (d.panels[2].gridPos = { ...d.panels[1].gridPos })],
    ['layout', (d) => (firstPanel(d).gridPos.w = 30)],
    ['links', (d) => (d.links = [])],
  ];
  it.each(breakages)('flags %s', (rule, breakIt) => {
    const d = service();
    breakIt(d);
    expect(rulesOf(d)).toEqual([rule]);
  });

  it('flags two dashboards sharing a uid', () => {
    const [a, b] = built();
    const findings = lintDashboards([
      { name: 'a.json', json: a!.json },
      { name: 'b.json', json: { ...b!.json, uid: a!.uid } },
    ]);
    expect(findings).toEqual([{ dashboard: 'b.json', rule: 'unique-uid', where: 'dashboard', message: `uid "${a!.uid}" is also used by a.json` }]);
  });

  it('finds a metric hidden in an annotation query, and checks panels inside collapsed rows', () => {
    const d = service();
    d.annotations.list = [{ name: 'x', enable: true, iconColor: 'red', datasource: { uid: '${datasource}' }, expr: 'not_a_catalogue_metric' }];
    const inner = structuredClone(firstPanel(d));
    delete inner.description;
    d.panels.push({ type: 'row', id: 999, collapsed: true, title: 'more', gridPos: { x: 0, y: 200, w: 24, h: 1 }, panels: [{ ...inner, id: 1000, gridPos: { ...inner.gridPos, y: 201 } }] });
    expect(lintDashboard(d, 't').map((f) => `${f.rule} ${f.where}`)).toEqual([
      'description panel 1000 "Requests per second"',
      'metric annotation "x"',
    ]);
  });

  it('describes every rule it can report', () => {
    for (const [rule] of breakages) expect(RULES[rule]).toBeTruthy();
  });
});
