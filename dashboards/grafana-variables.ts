import { assertNever } from '../lib/assert.ts';
import type { PrometheusApi } from '../lib/prometheus-api.ts';
import { ALL_VALUE, interpolate, isAll, prometheusTime, variableMacros, type ResolvedVariable, type TimeWindow, type VariableValue } from './grafana-template.ts';
import { asArray, isObject, parseVariableQuery, str, variableQueryText, variablesOf, type Json, type VariableQuery } from './queries.ts';

// A dashboard's variables resolved as Grafana resolves them against its
// Prometheus data source: each query variable's query interpolated with the
// variables before it, run the way `PrometheusMetricFindQuery` runs it, its
// values passed through the variable's regex, de-duplicated and sorted
// (grafana/scenes `metricNamesToVariableValues`), and a value chosen.

/** `stringToJsRegex` (@grafana/data): `/re/flags`, or else a whole-string match. */
export function grafanaRegex(text: string): RegExp {
  if (!text.startsWith('/')) return new RegExp(`^${text}$`);
  const m = /^\/(.*?)\/(g?i?m?y?s?)$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a valid regular expression`);
  return new RegExp(m[1]!, m[2]);
}

/** Grafana's `VariableSort`. */
const SORT = { disabled: 0, alphaAsc: 1, alphaDesc: 2, numAsc: 3, numDesc: 4, alphaCiAsc: 5, alphaCiDesc: 6, naturalAsc: 7, naturalDesc: 8 } as const;

const numericKey = (s: string) => {
  const m = /.*?(\d+).*/.exec(s);
  return m ? parseInt(m[1]!, 10) : -1;
};
const collator = new Intl.Collator(undefined, { sensitivity: 'accent', numeric: true });
const byKey = <K extends string | number>(key: (s: string) => K) => (a: string, b: string) => {
  const [x, y] = [key(a), key(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

function sortValues(values: string[], sort: number): string[] {
  const v = [...values];
  switch (sort) {
    case SORT.alphaAsc:
      return v.sort(byKey((s) => s));
    case SORT.alphaDesc:
      return v.sort(byKey((s) => s)).reverse();
    case SORT.numAsc:
      return v.sort(byKey(numericKey));
    case SORT.numDesc:
      return v.sort(byKey(numericKey)).reverse();
    case SORT.alphaCiAsc:
      return v.sort(byKey((s) => s.toLowerCase()));
    case SORT.alphaCiDesc:
      return v.sort(byKey((s) => s.toLowerCase())).reverse();
    case SORT.naturalAsc:
      return v.sort(collator.compare);
    case SORT.naturalDesc:
      return v.sort(collator.compare).reverse();
    default:
      return v;
  }
}

/**
 * Values through the variable's regex: the named group `value` (or `text`), the
 * first capture group, every match's group under a global regex, or the whole
 * value; non-matching values dropped; duplicates removed; then sorted.
 */
export function applyRegexAndSort(raw: string[], regex: string | undefined, sort: number): string[] {
  const re = regex ? grafanaRegex(regex) : undefined;
  const out: string[] = [];
  for (const value of raw) {
    if (!re) {
      out.push(value);
      continue;
    }
    const matches: RegExpExecArray[] = [];
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    do {
      m = re.exec(value);
      if (m) matches.push(m);
    } while (re.global && m && m[0] !== '');
    if (!matches.length) continue;
    const named = matches.find((x) => x.groups?.value ?? x.groups?.text);
    const first = matches.find((x) => x.length > 1);
    if (named) out.push((named.groups!.value ?? named.groups!.text)!);
    else if (matches.length > 1 && first) out.push(...matches.map((x) => x[1]!));
    else out.push(first ? first[1]! : value);
  }
  return sortValues([...new Set(out)], sort);
}

/** A variable's definition, read from the dashboard JSON. */
export interface VariableDef {
  name: string;
  type: string;
  query: string;
  regex?: string;
  sort: number;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
  current?: VariableValue;
}

export function variableDefs(dash: unknown): VariableDef[] {
  return variablesOf(dash).flatMap((v: Json) => {
    const name = str(v.name);
    if (!name) return [];
    const current = isObject(v.current) ? v.current.value : undefined;
    return [
      {
        name,
        type: str(v.type) ?? 'query',
        query: variableQueryText(v) ?? '',
        ...(str(v.regex) ? { regex: str(v.regex)! } : {}),
        sort: typeof v.sort === 'number' ? v.sort : 0,
        multi: v.multi === true,
        includeAll: v.includeAll === true,
        ...(str(v.allValue) ? { allValue: str(v.allValue)! } : {}),
        ...(typeof current === 'string' || Array.isArray(current) ? { current: (Array.isArray(current) ? asArray(current).map(String) : current) as VariableValue } : {}),
      },
    ];
  });
}

/** Custom variable options: comma-separated, `text : value` pairs allowed (the value is kept). */
function customOptions(query: string): string[] {
  return (query.match(/(?:\\,|[^,])+/g) ?? []).map((o) => {
    const t = o.replace(/\\,/g, ',').trim();
    const kv = /^\s*(.+)\s:\s(.+)$/.exec(t);
    return kv ? kv[2]!.trim() : t;
  });
}

/** How one query variable's query went. */
export interface VariableRun {
  name: string;
  /** The query as sent, variables interpolated. */
  sent: string;
  /** The values offered, after regex and sort. */
  options: string[];
  error?: string;
}

/** Run a Prometheus variable query as `PrometheusMetricFindQuery.process` does; the raw values. */
async function runVariableQuery(api: PrometheusApi, q: VariableQuery, w: TimeWindow): Promise<{ values: string[]; error?: string }> {
  const { start, end } = prometheusTime(w);
  switch (q.kind) {
    case 'label_names': {
      const r = await api.labelNames(start, end);
      return { values: r.items, ...(r.error ? { error: r.error } : {}) };
    }
    case 'label_values': {
      const r = await api.labelValues(q.label, { match: q.match, start, end });
      return { values: r.items.filter((v) => v !== ''), ...(r.error ? { error: r.error } : {}) };
    }
    case 'metrics': {
      const r = await api.labelValues('__name__', { start, end });
      const re = new RegExp(q.pattern);
      return { values: r.items.filter((n) => re.test(n)), ...(r.error ? { error: r.error } : {}) };
    }
    case 'query_result': {
      // Each result as text: `name{a="x",b="y"} value timestamp_ms`, for the regex to pick from.
      const r = await api.instant(q.expr, end);
      if (r.error) return { values: [], error: r.error };
      if (r.resultType === 'scalar' || r.resultType === 'string') return { values: r.result.map((s) => s.values[0]?.[1] ?? '') };
      return {
        values: r.result.map(({ metric, values }) => {
          const { __name__: name = '', ...labels } = metric;
          const [t, v] = values[0] ?? [0, ''];
          return `${name}{${Object.entries(labels).map(([k, x]) => `${k}="${x}"`).join(',')}} ${v} ${t * 1000}`;
        }),
      };
    }
    case 'series': {
      const r = await api.series(q.match, start, end);
      return {
        values: r.items.map(({ __name__: name = '', ...labels }) => `${name}{${Object.entries(labels).map(([k, x]) => `${k}="${x}"`).join(', ')}}`),
        ...(r.error ? { error: r.error } : {}),
      };
    }
    default:
      return assertNever(q, 'variable query');
  }
}

/**
 * Which value a variable takes, given its options. `undefined` keeps Grafana's
 * own choice: the saved current value when still valid (All stays All), else
 * the first option (grafana/scenes `MultiValueVariable.getStateUpdateGivenNewOptions`).
 */
export type Chooser = (def: VariableDef, options: string[]) => VariableValue | undefined;

export function defaultValue(def: VariableDef, options: string[]): VariableValue {
  const current = def.current;
  if (options.length === 0) return def.includeAll ? ALL_VALUE : def.multi ? [] : '';
  if (current !== undefined && isAll(current)) return def.includeAll ? ALL_VALUE : def.multi ? [options[0]!] : options[0]!;
  const wanted = current === undefined ? [] : Array.isArray(current) ? current : [current];
  const valid = wanted.filter((v) => options.includes(v));
  if (def.multi) return valid.length ? valid : [options[0]!];
  return valid[0] ?? options[0]!;
}

/**
 * Resolve the variables of `dash` in order (each sees the values chosen for
 * those before it, as Grafana's dependency chain does for dashboards that list
 * a variable after what it depends on).
 */
export async function resolveVariables(
  api: PrometheusApi,
  dash: unknown,
  opts: { window: TimeWindow; scrapeIntervalMs: number; choose?: Chooser },
): Promise<{ variables: Map<string, ResolvedVariable>; runs: VariableRun[] }> {
  const variables = new Map<string, ResolvedVariable>();
  const runs: VariableRun[] = [];
  const macros = variableMacros(opts.window, opts.scrapeIntervalMs);
  for (const def of variableDefs(dash)) {
    if (def.type === 'datasource') continue;
    let options: string[];
    if (def.type === 'query') {
      const sent = interpolate(def.query, { variables, macros });
      const { values, error } = sent ? await runVariableQuery(api, parseVariableQuery(sent), opts.window) : { values: [] };
      let regexError: string | undefined;
      try {
        options = applyRegexAndSort(values, def.regex, def.sort);
      } catch (err) {
        options = [];
        regexError = `regex ${def.regex}: ${(err as Error).message}`;
      }
      const problem = error ?? regexError;
      runs.push({ name: def.name, sent, options, ...(problem ? { error: problem } : {}) });
    } else if (def.type === 'custom') options = customOptions(def.query);
    else options = [def.type === 'textbox' && typeof def.current === 'string' ? def.current : def.query];
    const current = opts.choose?.(def, options) ?? defaultValue(def, options);
    variables.set(def.name, {
      name: def.name,
      type: def.type,
      multi: def.multi,
      includeAll: def.includeAll,
      ...(def.allValue ? { allValue: def.allValue } : {}),
      options,
      current,
    });
  }
  return { variables, runs };
}
