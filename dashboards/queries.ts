// Every PromQL expression of a dashboard JSON: panel targets, variable queries
// (parsed as Grafana's Prometheus data source reads them) and annotation queries.

export type Json = Record<string, unknown>;

/** A JSON object (not an array, not null): what every reader of dashboard or API JSON here checks first. */
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface FoundQuery {
  kind: 'panel' | 'variable' | 'annotation';
  /** Human location: `panel 7 "CPU temperature per node" query A`. */
  where: string;
  expr: string;
  panelId?: number;
  panelTitle?: string;
}

/** Top-level panels and those inside collapsed rows, in order. */
export function allPanels(dash: unknown): Json[] {
  if (!isObject(dash)) return [];
  const out: Json[] = [];
  for (const p of asArray(dash.panels)) {
    if (!isObject(p)) continue;
    out.push(p);
    for (const inner of asArray(p.panels)) if (isObject(inner)) out.push(inner);
  }
  return out;
}

export const variablesOf = (dash: unknown): Json[] =>
  isObject(dash) && isObject(dash.templating) ? asArray(dash.templating.list).filter(isObject) : [];

export const annotationsOf = (dash: unknown): Json[] =>
  isObject(dash) && isObject(dash.annotations) ? asArray(dash.annotations.list).filter(isObject) : [];

/** A variable's query text: a string, or the `query` field of Grafana 10's query object. */
export function variableQueryText(v: Json): string | undefined {
  return str(v.query) ?? (isObject(v.query) ? str(v.query.query) : undefined);
}

/** The forms of a Prometheus variable query (packages/grafana-prometheus/src/metric_find_query.ts). */
export type VariableQuery =
  | { kind: 'label_names' }
  | { kind: 'label_values'; label: string; match?: string }
  | { kind: 'metrics'; pattern: string }
  | { kind: 'query_result'; expr: string }
  /** Anything else is a series selector: its series, printed as `name{labels}`. */
  | { kind: 'series'; match: string };

/** Grafana's reading of a variable query, with its own regexes (`PrometheusMetricFindQuery.process`). */
export function parseVariableQuery(query: string): VariableQuery {
  if (/^label_names\(\)\s*$/.test(query)) return { kind: 'label_names' };
  const lv = /^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$/.exec(query);
  if (lv) {
    // A blank or `{}` filter counts as none (`isFilterDefined`).
    const match = lv[1] && lv[1].replace(/\s/g, '') !== '{}' ? lv[1] : undefined;
    return { kind: 'label_values', label: lv[2]!, ...(match ? { match } : {}) };
  }
  const metrics = /^metrics\((.+)\)\s*$/.exec(query);
  if (metrics) return { kind: 'metrics', pattern: metrics[1]! };
  const result = /^query_result\((.+)\)\s*$/.exec(query);
  if (result) return { kind: 'query_result', expr: result[1]! };
  return { kind: 'series', match: query };
}

/**
 * The PromQL a variable query selects series with, or undefined when it has
 * none: `label_values(expr, label)` → expr, `query_result(expr)` → expr, a bare
 * series selector → itself; `label_values(label)`, `label_names()` and
 * `metrics(re)` select no series.
 */
export function variableExpression(query: string): string | undefined {
  const q = parseVariableQuery(query);
  if (q.kind === 'label_values') return q.match;
  if (q.kind === 'query_result') return q.expr;
  if (q.kind === 'series') return q.match.trim() || undefined;
  return undefined;
}

export function panelLabel(p: Json): string {
  return `panel ${typeof p.id === 'number' ? p.id : '?'} "${str(p.title) ?? ''}"`;
}

export function dashboardQueries(dash: unknown): FoundQuery[] {
  const found: FoundQuery[] = [];
  for (const p of allPanels(dash)) {
    if (p.type === 'row') continue;
    for (const t of asArray(p.targets)) {
      const expr = isObject(t) ? str(t.expr) : undefined;
      if (!expr?.trim()) continue;
      const refId = isObject(t) ? str(t.refId) ?? '?' : '?';
      found.push({
        kind: 'panel',
        where: `${panelLabel(p)} query ${refId}`,
        expr,
        panelId: typeof p.id === 'number' ? p.id : undefined,
        panelTitle: str(p.title),
      });
    }
  }
  for (const v of variablesOf(dash)) {
    if (v.type !== 'query') continue;
    const text = variableQueryText(v);
    const expr = text && variableExpression(text);
    if (expr) found.push({ kind: 'variable', where: `variable $${str(v.name)}`, expr });
  }
  for (const a of annotationsOf(dash)) {
    const expr = str(a.expr) ?? (isObject(a.target) ? str(a.target.expr) : undefined);
    if (expr?.trim()) found.push({ kind: 'annotation', where: `annotation "${str(a.name)}"`, expr });
  }
  return found;
}
