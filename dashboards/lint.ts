import { EXTERNAL, LOADTEST, RPI, TWIN } from '../lib/catalog.ts';
import { PI_THERMAL } from '../lib/defaults.ts';
import { metricNames } from './metric-names.ts';
import { allPanels, annotationsOf, asArray, dashboardQueries, isObject, panelLabel, str, variablesOf, type Json } from './queries.ts';
import { DATASOURCE_VAR } from './toolkit.ts';

// The dashboard rules as checks over Grafana's JSON model, so they hold for the
// built dashboards and for any hand-made JSON a user wants to bring in line.

export interface Finding {
  dashboard: string;
  rule: Rule;
  where: string;
  message: string;
}

export const RULES = {
  uid: 'a stable uid: present, at most 40 characters of [A-Za-z0-9_-]',
  'unique-uid': 'no two dashboards share a uid',
  'datasource-variable': `a $${DATASOURCE_VAR} variable of type datasource for Prometheus`,
  'datasource-ref': `every datasource reference is $${DATASOURCE_VAR} (or Grafana's built-in annotation store), never a hard-coded uid`,
  description: 'every panel has a description',
  unit: 'every panel has a unit',
  query: 'every non-row panel has at least one query',
  'panel-id': 'every panel has an id, unique within the dashboard',
  metric: 'every metric a query reads is in lib/catalog.ts (TWIN, LOADTEST, RPI) or a known exporter (EXTERNAL)',
  'thermal-bands': `temperature panels carry the ${PI_THERMAL.softLimit}/${PI_THERMAL.warning}/${PI_THERMAL.throttle} °C thresholds`,
  layout: 'panels fit the 24-column grid without overlapping',
  links: 'the dashboard links to related dashboards',
  promql: 'with --prometheus URL: every query, variables resolved and macros filled in as Grafana does, runs on that Prometheus',
  data: 'with --prometheus URL --data: every panel shows data in every variable selection where something it reads has series',
} as const;
export type Rule = keyof typeof RULES;

/** Series of a histogram named by its base name in the catalogue. */
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** Every metric name the suite emits or may query. */
export function knownMetrics(): Set<string> {
  const own = [...Object.values(TWIN), ...Object.values(LOADTEST), ...Object.values(RPI)];
  const withSeries = own.flatMap((m) => [m, ...HISTOGRAM_SUFFIXES.map((s) => `${m}${s}`)]);
  return new Set([...withSeries, ...Object.values(EXTERNAL).flat()]);
}


const VARIABLE_REFS = new Set([`$${DATASOURCE_VAR}`, `\${${DATASOURCE_VAR}}`]);
/** Grafana's own annotation store, and the mixed pseudo-datasource that defers to each query's. */
const BUILT_IN_UIDS = new Set(['-- Grafana --', 'grafana', '-- Mixed --']);

function datasourceProblem(ref: unknown): string | undefined {
  if (ref === undefined || ref === null) return undefined;
  if (typeof ref === 'string') return VARIABLE_REFS.has(ref) ? undefined : `datasource "${ref}" is hard-coded`;
  if (!isObject(ref)) return 'datasource reference is neither a string nor an object';
  const uid = str(ref.uid);
  if (uid === undefined) return undefined;
  if (VARIABLE_REFS.has(uid) || BUILT_IN_UIDS.has(uid) || ref.type === 'grafana') return undefined;
  return `datasource uid "${uid}" is hard-coded`;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function gridPos(p: Json): Box | undefined {
  const g = p.gridPos;
  if (!isObject(g)) return undefined;
  const [x, y, w, h] = [g.x, g.y, g.w, g.h];
  return [x, y, w, h].every((n) => typeof n === 'number') ? { x, y, w, h } as Box : undefined;
}

const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Lint one dashboard JSON model. `name` identifies it in findings (file or slug). */
export function lintDashboard(dash: unknown, name: string, known = knownMetrics()): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: Rule, where: string, message: string) => findings.push({ dashboard: name, rule, where, message });
  if (!isObject(dash)) {
    add('uid', 'dashboard', 'not a dashboard JSON object');
    return findings;
  }

  const uid = str(dash.uid);
  if (!uid) add('uid', 'dashboard', 'no uid: Grafana would generate a random one on every import');
  else if (!/^[A-Za-z0-9_-]{1,40}$/.test(uid)) add('uid', 'dashboard', `uid "${uid}" is not 1-40 characters of [A-Za-z0-9_-]`);

  const variables = variablesOf(dash);
  const dsVar = variables.find((v) => v.name === DATASOURCE_VAR);
  if (!dsVar || dsVar.type !== 'datasource' || (str(dsVar.query) ?? '') !== 'prometheus')
    add('datasource-variable', 'templating', `no $${DATASOURCE_VAR} variable of type datasource with query "prometheus"`);
  for (const v of variables) {
    const problem = datasourceProblem(v.datasource);
    if (problem) add('datasource-ref', `variable $${str(v.name)}`, problem);
  }
  for (const a of annotationsOf(dash)) {
    const problem = datasourceProblem(a.datasource);
    if (problem) add('datasource-ref', `annotation "${str(a.name)}"`, problem);
  }

  const panels = allPanels(dash);
  const ids = new Map<number, string>();
  const boxes: { box: Box; label: string; container: string | undefined }[] = [];
  const containerOf = new Map<unknown, string>();
  asArray(dash.panels).forEach((p, i) => {
    containerOf.set(p, 'top');
    if (isObject(p)) for (const inner of asArray(p.panels)) containerOf.set(inner, `row ${i}`);
  });
  for (const p of panels) {
    const label = panelLabel(p);
    if (typeof p.id !== 'number') add('panel-id', label, 'panel has no numeric id');
    else if (ids.has(p.id)) add('panel-id', label, `id ${p.id} is also used by ${ids.get(p.id)}`);
    else ids.set(p.id, label);

    const box = gridPos(p);
    if (!box) add('layout', label, 'panel has no gridPos');
    else {
      if (box.x < 0 || box.w < 1 || box.x + box.w > 24) add('layout', label, `gridPos x=${box.x} w=${box.w} leaves the 24-column grid`);
      // Panels of a collapsed row lay out among themselves, when it is expanded.
      const container = containerOf.get(p);
      const clash = boxes.find((o) => o.container === container && overlap(o.box, box));
      if (clash) add('layout', label, `overlaps ${clash.label}`);
      boxes.push({ box, label, container });
    }

    for (const ref of [p.datasource, ...asArray(p.targets).map((t) => (isObject(t) ? t.datasource : undefined))]) {
      const problem = datasourceProblem(ref);
      if (problem) add('datasource-ref', label, problem);
    }
    if (p.type === 'row') continue;

    if (!str(p.description)?.trim()) add('description', label, 'panel has no description');
    const defaults = isObject(p.fieldConfig) && isObject(p.fieldConfig.defaults) ? p.fieldConfig.defaults : {};
    const unit = str(defaults.unit);
    if (!unit?.trim()) add('unit', label, 'panel has no unit (fieldConfig.defaults.unit)');
    if (!asArray(p.targets).some((t) => isObject(t) && str(t.expr)?.trim())) add('query', label, 'panel has no query');
    if (unit === 'celsius') {
      const steps = isObject(defaults.thresholds) ? asArray(defaults.thresholds.steps) : [];
      const values = new Set(steps.map((s) => (isObject(s) ? s.value : undefined)));
      const missing = [PI_THERMAL.softLimit, PI_THERMAL.warning, PI_THERMAL.throttle].filter((t) => !values.has(t));
      if (missing.length) add('thermal-bands', label, `temperature panel lacks threshold steps at ${missing.join(', ')} °C`);
    }
  }

  for (const found of dashboardQueries(dash)) {
    for (const metric of metricNames(found.expr)) {
      if (!known.has(metric)) add('metric', found.where, `metric ${metric} is not in lib/catalog.ts nor a known exporter's`);
    }
  }

  const links = asArray(dash.links).filter(isObject);
  const linksDashboards = links.some((l) => l.type === 'dashboards' || /\/d\//.test(str(l.url) ?? ''));
  if (!linksDashboards) add('links', 'links', 'no link to another dashboard');
  return findings;
}

/** Lint a set of dashboards, including rules across them (uids unique). */
export function lintDashboards(dashboards: readonly { name: string; json: unknown }[]): Finding[] {
  const known = knownMetrics();
  const findings = dashboards.flatMap((d) => lintDashboard(d.json, d.name, known));
  const byUid = new Map<string, string>();
  for (const d of dashboards) {
    const uid = isObject(d.json) ? str(d.json.uid) : undefined;
    if (!uid) continue;
    const other = byUid.get(uid);
    if (other) findings.push({ dashboard: d.name, rule: 'unique-uid', where: 'dashboard', message: `uid "${uid}" is also used by ${other}` });
    else byUid.set(uid, d.name);
  }
  return findings;
}
