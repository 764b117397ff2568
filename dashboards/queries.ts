import { duration } from '../lib/parse.ts';
import { variableExpression } from './metric-names.ts';

// Every PromQL expression of a dashboard JSON (panel targets, variable queries,
// annotation queries), and Grafana's macro and variable substitution, so they
// can be sent to a real Prometheus exactly as Grafana would send them.

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
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

// ---------------------------------------------------------------- substitution

export interface Substitution {
  /** What Grafana would compute for the panel: `$__interval` and `$__rate_interval`, as Prometheus durations. */
  interval: string;
  rateInterval: string;
  /** The dashboard time range (`$__range`), a Prometheus duration; its end is "now". */
  range: string;
  /** Values of the dashboard's own variables. */
  variables: Record<string, string>;
}

export const DEFAULT_SUBSTITUTION: Omit<Substitution, 'variables'> = { interval: '15s', rateInterval: '1m', range: '1h' };

const seconds = (d: string) => duration(d, 'duration') / 1000;

/** Replace Grafana's global macros and the dashboard variables, as Grafana does before querying. */
export function substitute(expr: string, sub: Substitution, now = Date.now()): string {
  const rangeS = seconds(sub.range);
  const macros: Record<string, string> = {
    __rate_interval: sub.rateInterval,
    __interval_ms: String(seconds(sub.interval) * 1000),
    __interval: sub.interval,
    __range_ms: String(rangeS * 1000),
    __range_s: String(rangeS),
    __range: sub.range,
    __from: String(now - rangeS * 1000),
    __to: String(now),
  };
  const values = { ...sub.variables, ...macros };
  const lookup = (name: string, whole: string) => values[name] ?? whole;
  return expr
    .replace(/\$\{([a-zA-Z0-9_]+)(?::[^}]*)?\}/g, (whole, name: string) => lookup(name, whole))
    .replace(/\[\[([a-zA-Z0-9_]+)(?::[^\]]*)?\]\]/g, (whole, name: string) => lookup(name, whole))
    .replace(/\$([a-zA-Z0-9_]+)/g, (whole, name: string) => lookup(name, whole));
}

/**
 * The values a dashboard opens with: a custom variable's current choice, "All"
 * (its allValue, `.*` by default) for multi-select query variables, a
 * constant's or textbox's value.
 */
export function defaultVariableValues(dash: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of variablesOf(dash)) {
    const name = str(v.name);
    if (!name || v.type === 'datasource') continue;
    const current = isObject(v.current) ? v.current.value : undefined;
    const currentValue = Array.isArray(current) ? str(current[0]) : str(current);
    if (v.type === 'query') out[name] = currentValue && currentValue !== '$__all' ? currentValue : str(v.allValue) ?? '.*';
    else out[name] = currentValue && currentValue !== '$__all' ? currentValue : variableQueryText(v)?.split(',')[0]?.trim() ?? '';
  }
  return out;
}
