// Grafana's template interpolation as its Prometheus data source applies it,
// and the interval macros it computes for a panel, so a dashboard's queries can
// be sent to a Prometheus exactly as Grafana would send them. Written from
// Grafana's source (grafana/grafana and grafana/scenes), cited per function;
// where Grafana has two behaviours (feature toggles) the default one is kept.

/** The value a variable holds while "All" is selected (grafana/scenes `ALL_VARIABLE_VALUE`). */
export const ALL_VALUE = '$__all';

export type VariableValue = string | string[];

/** A dashboard variable as interpolation needs it: its options, its current value and how it formats. */
export interface ResolvedVariable {
  name: string;
  type: string;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
  /** Option values as Grafana lists them (after regex and sort), without "All". */
  options: string[];
  /** `$__all`, one value, or several (multi-value). */
  current: VariableValue;
}

export interface TemplateContext {
  variables: ReadonlyMap<string, ResolvedVariable>;
  /** Macros for this query (`__interval`, `__rate_interval`, `__range`, `__from`, ...), without the `$`. */
  macros: Readonly<Record<string, string>>;
}

/**
 * `$var`, `[[var]]`, `[[var:fmt]]`, `${var}`, `${var.field}`, `${var:fmt}`: Grafana's
 * `variableRegex` (public/app/features/variables/utils.ts).
 */
const VARIABLE_REFERENCE = /\$(\w+)|\[\[([\s\S]+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

export const isAll = (value: VariableValue): boolean => value === ALL_VALUE || (Array.isArray(value) && value[0] === ALL_VALUE);

/** Names of the variables (and macros) `text` refers to. */
export function referencedNames(text: string): string[] {
  return [...text.matchAll(VARIABLE_REFERENCE)].map((m) => (m[1] ?? m[2] ?? m[4])!);
}

// ---------------------------------------------------------------- escaping (packages/grafana-prometheus/src/escaping.ts)

/** A value in an exact matcher, for a single-value variable (Grafana's classic behaviour). */
const prometheusRegularEscape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");

/**
 * A value in a regex matcher, for a multi-value or All-capable variable: regex
 * metacharacters escaped twice, once for the regex and once for the PromQL string
 * it sits in (`a.b` → `a\\.b`, read by Prometheus as the regex `a\.b`).
 */
const prometheusSpecialRegexEscape = (value: string): string =>
  value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]+?.()|]/g, '\\\\$&');

/**
 * The Prometheus data source's formatter (`interpolateQueryExpr`): no regex
 * escaping unless the variable is multi-value or has All; several values become
 * `(a|b)`, none `()`.
 */
function interpolateQueryExpr(value: VariableValue, variable: { multi?: boolean; includeAll?: boolean }): string {
  if (!variable.multi && !variable.includeAll) return Array.isArray(value) ? value.map(prometheusRegularEscape).join(',') : prometheusRegularEscape(value);
  if (typeof value === 'string') return prometheusSpecialRegexEscape(value);
  const escaped = value.map(prometheusSpecialRegexEscape);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

/** `${var:regex}`'s escaping (grafana/scenes formatRegistry, `escapeStringForRegex`). */
const regexEscape = (value: string): string => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

/**
 * An explicit `${var:format}` (grafana/scenes `formatRegistry`); an unknown
 * format falls back to glob, as Grafana does after logging an error.
 */
function formatAs(format: string, value: VariableValue): string {
  const values = Array.isArray(value) ? value : [value];
  switch (format) {
    case 'raw':
    case 'text':
    case 'csv':
      return values.join(',');
    case 'regex': {
      const escaped = values.map(regexEscape);
      return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
    }
    case 'pipe':
      return values.join('|');
    case 'json':
      return JSON.stringify(value);
    case 'doublequote':
      return values.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    default:
      return Array.isArray(value) && value.length > 1 ? `{${value.join(',')}}` : values.join(',');
  }
}

/**
 * Replace every variable and macro reference in `text` as Grafana's template
 * service does with the Prometheus data source's formatter
 * (public/app/features/templating/template_srv.ts `_evaluateVariableExpression`):
 * macros first; an unknown name stays as written; All becomes the custom
 * `allValue` unformatted (grafana/scenes `CustomAllValue`) or, without one, the
 * list of every option value, formatted like a multi-value selection.
 */
export function interpolate(text: string, ctx: TemplateContext): string {
  return text.replace(VARIABLE_REFERENCE, (match, var1?: string, var2?: string, fmt2?: string, var3?: string, _field?: string, fmt3?: string) => {
    const name = (var1 ?? var2 ?? var3)!;
    const format = fmt2 ?? fmt3;
    const macro = ctx.macros[name];
    if (macro !== undefined) return format ? formatAs(format, macro) : interpolateQueryExpr(macro, {});
    const variable = ctx.variables.get(name);
    if (!variable) return match;
    let value = variable.current;
    if (isAll(value)) {
      if (variable.allValue && format !== 'text' && format !== 'percentencode') return variable.allValue;
      value = variable.options;
    }
    return format ? formatAs(format, value) : interpolateQueryExpr(value, variable);
  });
}

// ---------------------------------------------------------------- intervals and macros

/** A dashboard time range, in epoch milliseconds. */
export interface TimeWindow {
  from: number;
  to: number;
}

/** The window as the Prometheus data source sends it (`getPrometheusTime`): start rounded down, end up, to whole seconds. */
export const prometheusTime = (w: TimeWindow): { start: number; end: number } => ({ start: Math.floor(w.from / 1000), end: Math.ceil(w.to / 1000) });

/**
 * Grafana's "nice" interval ladder (`rangeUtil.roundInterval`, @grafana/data):
 * the largest step below each threshold, in milliseconds.
 */
const INTERVAL_LADDER: [below: number, step: number][] = [
  [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
  [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000], [210_000, 120_000],
  [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000],
  [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000], [32_400_000, 21_600_000],
  [86_400_000, 43_200_000], [604_800_000, 86_400_000], [1_814_400_000, 604_800_000], [3_628_800_000, 2_592_000_000],
];
export const roundInterval = (ms: number): number => INTERVAL_LADDER.find(([below]) => ms < below)?.[1] ?? 31_536_000_000;

/** `rangeUtil.secondsToHms`: the largest whole unit, truncated (`90` → `1m`). */
export function secondsToHms(seconds: number): string {
  const units: [number, string][] = [[31_536_000, 'y'], [86_400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  for (const [size, unit] of units) if (Math.floor(seconds / size) >= 1) return `${Math.floor(seconds / size)}${unit}`;
  return `${Math.floor(seconds * 1000)}ms`;
}

/** `getRangeScopedVars` of the Prometheus data source: the range rounded to whole seconds. */
export function rangeMacros(w: TimeWindow): Record<string, string> {
  const ms = w.to - w.from;
  const s = Math.round(ms / 1000);
  return { __range_ms: String(ms), __range_s: String(s), __range: `${s}s`, __from: String(w.from), __to: String(w.to) };
}

/**
 * The macros of a variable query (`PrometheusDatasource.metricFindQuery`):
 * `$__interval` is the data source's scrape interval, `$__range` the time range;
 * there is no `$__rate_interval` here, so a variable query using it fails in Grafana too.
 */
export function variableMacros(w: TimeWindow, scrapeIntervalMs: number): Record<string, string> {
  return { __interval: secondsToHms(scrapeIntervalMs / 1000), __interval_ms: String(scrapeIntervalMs), ...rangeMacros(w) };
}

export interface PanelQueryTiming {
  /** Seconds between points of a range query (Prometheus `step`). */
  step: number;
  macros: Record<string, string>;
}

/**
 * What Grafana computes for one panel query. The panel interval is
 * `rangeUtil.calculateInterval(range, maxDataPoints, lowLimit)` with the lower
 * limit the panel's "Min interval" or else the data source's scrape interval
 * (PanelQueryRunner); the data source then raises it to at least the query's
 * "Min step" and range/11000 (`adjustInterval`), and sets
 * `$__rate_interval = max($__interval + scrape interval, 4 × scrape interval)`
 * (`getRateIntervalScopedVariable`; the backend's `calculateRateInterval` agrees).
 */
export function panelQueryTiming(opts: {
  window: TimeWindow;
  maxDataPoints: number;
  /** The data source's "Scrape interval" (jsonData.timeInterval; Grafana's default 15s). */
  scrapeIntervalMs: number;
  /** The panel's "Min interval", if set. */
  panelMinIntervalMs?: number;
  /** The query's "Min step", if set: also the scrape interval of the rate window. */
  queryMinStepMs?: number;
  intervalFactor?: number;
}): PanelQueryTiming {
  const rangeMs = opts.window.to - opts.window.from;
  const lowLimit = opts.panelMinIntervalMs ?? opts.scrapeIntervalMs;
  const panelIntervalMs = Math.max(roundInterval(rangeMs / opts.maxDataPoints), lowLimit);
  const interval = panelIntervalMs / 1000;
  const minStep = (opts.queryMinStepMs ?? panelIntervalMs) / 1000;
  const scrape = (opts.queryMinStepMs ?? opts.scrapeIntervalMs) / 1000 || 15;
  let safe = rangeMs / 1000 / 11_000;
  if (safe > 1) safe = Math.ceil(safe);
  const adjusted = Math.max(interval * (opts.intervalFactor ?? 1), minStep, safe);
  const rate = Math.max(adjusted + scrape, 4 * scrape);
  const intervalMacros =
    adjusted === interval
      ? { __interval: secondsToHms(interval), __interval_ms: String(panelIntervalMs) }
      : { __interval: `${adjusted}s`, __interval_ms: String(adjusted * 1000) };
  return { step: adjusted, macros: { ...intervalMacros, __rate_interval: `${rate}s`, ...rangeMacros(opts.window) } };
}

/** Range query bounds aligned down to the step (`alignRange`, UTC). */
export const alignToStep = (seconds: number, step: number): number => Math.floor(seconds / step) * step;
