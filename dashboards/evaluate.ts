import { ISTIO, KSM, LOADTEST, NODE, PROMETHEUS, RPI, TRAEFIK, TWIN } from '../lib/catalog.ts';
import type { PrometheusApi, QueryAnswer } from '../lib/prometheus-api.ts';
import { ALL_VALUE, alignToStep, interpolate, isAll, panelQueryTiming, prometheusTime, referencedNames, type ResolvedVariable, type TimeWindow, type VariableValue } from './grafana-template.ts';
import { resolveVariables, variableDefs, type Chooser, type VariableDef, type VariableRun } from './grafana-variables.ts';
import { metricNames } from './metric-names.ts';
import { allPanels, annotationsOf, asArray, isObject, str, variableExpression, type Json } from './queries.ts';

// Open each dashboard as Grafana would against one Prometheus, for several
// variable selections (All, one value, two values), run every panel query over
// the time range, and say per panel whether it shows data. A panel with no
// data is only a failure when something it reads exists in Prometheus: when
// none of its inputs has a series in the range, it is "not judged" (its
// exporter is not scraped there), never passed.

export const SELECTIONS = ['all', 'one', 'two'] as const;
export type SelectionKind = (typeof SELECTIONS)[number];

export interface EvaluateOptions {
  /** Length of the time range ending now; default: each dashboard's own (`time.from`, e.g. now-1h). */
  rangeMs?: number;
  /** End of the time range (epoch ms), the same for every dashboard; default: when the run starts. */
  now?: number;
  /** The Grafana data source's "Scrape interval" (Grafana's default 15 s). */
  scrapeIntervalMs?: number;
  selections?: readonly SelectionKind[];
  /** Variables the selection applies to; default every multi-value or All-capable query variable. */
  vary?: readonly string[];
  /** Values fixed whatever the selection, e.g. `{ source: 'traefik' }`. */
  fixed?: Readonly<Record<string, VariableValue>>;
  /** Screen width in pixels: a panel's maxDataPoints is its width in pixels, as in Grafana. */
  viewportWidth?: number;
  /** Called as each dashboard is opened, for a progress line. */
  onDashboard?: (name: string, index: number, total: number) => void;
}

export interface QueryResult {
  /** `A`, `B`... for panel targets; the annotation's name for annotations. */
  ref: string;
  expr: string;
  /** As sent to Prometheus, variables and macros interpolated. */
  sent: string;
  instant: boolean;
  /** Series with at least one sample. */
  series: number;
  error?: string;
}

export interface PanelResult {
  id: number;
  title: string;
  queries: QueryResult[];
}

export interface SelectionResult {
  kind: SelectionKind;
  /** What each variable ended up holding: `All`, `a`, `a|b`. */
  picked: Record<string, string>;
  variables: VariableRun[];
  panels: PanelResult[];
  annotations: QueryResult[];
  /** It picked what this earlier selection did: its panels and annotations are that one's, not run again. */
  sameAs?: SelectionKind;
}

export interface PanelInputs {
  id: number;
  title: string;
  /**
   * Metrics the panel shows: those its queries read (Prometheus's own `up`,
   * `ALERTS`... left out) or, for a panel reading only those (targets up), the
   * metrics its variables take their values from (the exporter whose `up` it shows).
   */
  inputs: string[];
  /** Inputs with no series in the time range. */
  absent: string[];
  /** Query variables its queries use whose All means the values found: with none found, the panel cannot show anything. */
  variables: string[];
}

export interface DashboardEvaluation {
  name: string;
  title: string;
  window: TimeWindow;
  panels: PanelInputs[];
  selections: SelectionResult[];
}

export type Verdict = 'data' | 'no data' | 'error' | 'not judged';

/** The variables the panel selects by that found no value in this selection. */
const valuelessVariables = (inputs: PanelInputs, selection: SelectionResult): string[] =>
  selection.variables.filter((v) => inputs.variables.includes(v.name) && v.options.length === 0).map((v) => v.name);

/**
 * A panel's verdict in one selection. No data is a failure only where the panel
 * could have shown something: not when none of its inputs has a series (its
 * exporter is not scraped there) nor when a variable it uses found no value.
 */
export function verdictOf(inputs: PanelInputs, result: PanelResult, selection: SelectionResult): Verdict {
  if (result.queries.some((q) => q.error)) return 'error';
  if (result.queries.some((q) => q.series > 0)) return 'data';
  if (inputs.inputs.length > 0 && inputs.absent.length === inputs.inputs.length) return 'not judged';
  return valuelessVariables(inputs, selection).length ? 'not judged' : 'no data';
}

/** Series Prometheus makes for every target, which say nothing about an exporter being there. */
const PROMETHEUS_OWN = new Set<string>(Object.values(PROMETHEUS));

/** Where each catalogued metric comes from, for the report. */
const SOURCE_OF = new Map<string, string>(
  (
    [
      [TWIN, 'twin'],
      [LOADTEST, 'load runner'],
      [RPI, 'Pi exporter'],
      [NODE, 'node-exporter'],
      [KSM, 'kube-state-metrics'],
      [TRAEFIK, 'Traefik'],
      [ISTIO, 'Istio'],
    ] as const
  ).flatMap(([group, source]) => Object.values(group).flatMap((m) => [m, `${m}_bucket`, `${m}_count`, `${m}_sum`].map((n) => [n, source] as [string, string]))),
);
const sourcesOf = (metrics: readonly string[]): string[] => [...new Set(metrics.map((m) => SOURCE_OF.get(m) ?? 'other'))].sort();


/** Grafana interval strings (`30s`, `1m`, `500ms`), as `rangeUtil.intervalToMs` reads them. */
function intervalMs(text: string | undefined): number | undefined {
  const m = text ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)?$/.exec(text.trim()) : null;
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

/** A dashboard's default range length from `time.from` (`now-1h`), 1 h when it says nothing usable. */
function dashboardRangeMs(dash: unknown): number {
  const from = isObject(dash) && isObject(dash.time) ? str(dash.time.from) : undefined;
  return (from && intervalMs(/^now-(.+)$/.exec(from)?.[1])) || 3_600_000;
}

/** Every metric a variable's query reads, following the variables it uses in turn. */
function variableInputs(defs: Map<string, VariableDef>, name: string, seen = new Set<string>()): string[] {
  const def = defs.get(name);
  if (!def || def.type !== 'query' || seen.has(name)) return [];
  seen.add(name);
  const expr = variableExpression(def.query);
  return [...(expr ? metricNames(expr) : []), ...referencedNames(def.query).flatMap((n) => variableInputs(defs, n, seen))];
}

interface PanelTarget {
  refId: string;
  expr: string;
  instant: boolean;
  minStepMs?: number;
  intervalFactor?: number;
}

function panelTargets(p: Json): PanelTarget[] {
  return asArray(p.targets).flatMap((t) => {
    if (!isObject(t) || t.hide === true) return [];
    const expr = str(t.expr);
    if (!expr?.trim()) return [];
    const base = { refId: str(t.refId) ?? '?', expr, minStepMs: intervalMs(str(t.interval)), intervalFactor: typeof t.intervalFactor === 'number' ? t.intervalFactor : undefined };
    // Range unless only instant is asked; "both" runs both (`processTargetV2`).
    const out: PanelTarget[] = [];
    if (t.range === true || t.instant !== true) out.push({ ...base, instant: false });
    if (t.instant === true) out.push({ ...base, instant: true });
    return out;
  });
}

const seriesWithSamples = (a: QueryAnswer) => a.result.filter((s) => s.values.length > 0).length;

/** The value a varied variable takes in a selection; undefined = Grafana's own default. */
function chooserFor(kind: SelectionKind, vary: readonly string[] | undefined, fixed: Readonly<Record<string, VariableValue>>): Chooser {
  return (def, options) => {
    if (def.name in fixed) return fixed[def.name];
    const varied = vary ? vary.includes(def.name) : def.type === 'query' && (def.multi || def.includeAll);
    if (!varied) return undefined;
    if (kind === 'all') return def.includeAll ? ALL_VALUE : undefined;
    if (options.length === 0) return undefined;
    const picked = kind === 'one' || !def.multi ? options.slice(0, 1) : options.slice(0, 2);
    return def.multi ? picked : picked[0];
  };
}

const describeValue = (v: ResolvedVariable) => (isAll(v.current) ? 'All' : Array.isArray(v.current) ? v.current.join('|') : v.current);

/** The metric names with series in [start, end], listed once per window however many dashboards share it. */
type MetricNamesIn = (start: number, end: number) => Promise<Set<string>>;

async function evaluateDashboard(
  api: PrometheusApi,
  dashboard: { name: string; json: unknown },
  opts: EvaluateOptions & { now: number },
  metricNamesIn: MetricNamesIn,
): Promise<DashboardEvaluation> {
  const dash = dashboard.json;
  const now = opts.now;
  const window: TimeWindow = { from: now - (opts.rangeMs ?? dashboardRangeMs(dash)), to: now };
  const scrapeIntervalMs = opts.scrapeIntervalMs ?? 15_000;
  const viewportWidth = opts.viewportWidth ?? 1920;
  const { start, end } = prometheusTime(window);

  const present = await metricNamesIn(start, end);
  const defs = new Map(variableDefs(dash).map((d) => [d.name, d]));
  // Each panel's targets are read once: every selection runs the same ones.
  const panels = allPanels(dash)
    .filter((p) => p.type !== 'row')
    .map((p) => ({ p, targets: panelTargets(p) }))
    .filter(({ targets }) => targets.length > 0);
  const inputs: PanelInputs[] = panels.map(({ p, targets }) => {
    const exprs = targets.map((t) => t.expr);
    // Variables whose All is the values found select what the panel shows; one with a custom All (`$namespace`) only narrows it.
    const selecting = [...new Set(exprs.flatMap(referencedNames))].filter((n) => defs.get(n)?.type === 'query' && !defs.get(n)?.allValue);
    const read = exprs.flatMap(metricNames).filter((m) => !PROMETHEUS_OWN.has(m));
    const shown = read.length ? read : selecting.flatMap((n) => variableInputs(defs, n)).filter((m) => !PROMETHEUS_OWN.has(m));
    const metrics = [...new Set(shown)].sort();
    return { id: typeof p.id === 'number' ? p.id : 0, title: str(p.title) ?? '', inputs: metrics, absent: metrics.filter((m) => !present.has(m)), variables: selecting };
  });

  const selections: SelectionResult[] = [];
  for (const kind of opts.selections ?? ['all']) {
    const { variables, runs } = await resolveVariables(api, dash, { window, scrapeIntervalMs, choose: chooserFor(kind, opts.vary, opts.fixed ?? {}) });
    const picked = Object.fromEntries([...variables.values()].filter((v) => v.type === 'query' || v.type === 'custom').map((v) => [v.name, describeValue(v)]));

    const run = async (expr: string, instant: boolean, timing: ReturnType<typeof panelQueryTiming>, ref: string): Promise<QueryResult> => {
      const sent = interpolate(expr, { variables, macros: timing.macros });
      const answer = instant
        ? await api.instant(sent, end)
        : await api.range(sent, alignToStep(start, timing.step), alignToStep(end, timing.step), timing.step);
      return { ref, expr, sent, instant, series: seriesWithSamples(answer), ...(answer.error ? { error: answer.error } : {}) };
    };

    // A selection that picks what an earlier one picked (no variable to vary) shows the same panels.
    const same = selections.find((s) => JSON.stringify(s.picked) === JSON.stringify(picked));
    if (same) {
      selections.push({ ...same, kind, variables: runs, sameAs: same.kind });
      continue;
    }

    const panelResults: PanelResult[] = [];
    for (const [i, { p, targets }] of panels.entries()) {
      const width = isObject(p.gridPos) && typeof p.gridPos.w === 'number' ? p.gridPos.w : 12;
      const maxDataPoints = typeof p.maxDataPoints === 'number' ? p.maxDataPoints : Math.round((width * viewportWidth) / 24);
      const panelMinIntervalMs = intervalMs(str(p.interval) && interpolate(str(p.interval)!, { variables, macros: {} }));
      const queries = await Promise.all(
        targets.map((t) =>
          run(t.expr, t.instant, panelQueryTiming({ window, maxDataPoints, scrapeIntervalMs, panelMinIntervalMs, queryMinStepMs: t.minStepMs, intervalFactor: t.intervalFactor }), t.refId),
        ),
      );
      panelResults.push({ id: inputs[i]!.id, title: inputs[i]!.title, queries });
    }

    // Annotation queries run as range queries at their own step, 60 s by default (`annotationQuery`).
    const annotations: QueryResult[] = [];
    for (const a of annotationsOf(dash)) {
      const expr = str(a.expr);
      if (!expr?.trim() || a.enable === false) continue;
      const stepMs = intervalMs(str(a.step)) ?? 60_000;
      annotations.push(await run(expr, false, panelQueryTiming({ window, maxDataPoints: viewportWidth, scrapeIntervalMs, queryMinStepMs: stepMs }), str(a.name) ?? '?'));
    }
    selections.push({ kind, picked, variables: runs, panels: panelResults, annotations });
  }
  return { name: dashboard.name, title: isObject(dash) ? str(dash.title) ?? dashboard.name : dashboard.name, window, panels: inputs, selections };
}

export async function evaluateDashboards(
  api: PrometheusApi,
  dashboards: readonly { name: string; json: unknown }[],
  opts: EvaluateOptions = {},
): Promise<DashboardEvaluation[]> {
  // One "now" for the whole run, so dashboards with the same range share its window and its metric listing.
  const now = opts.now ?? Date.now();
  const listings = new Map<string, Promise<Set<string>>>();
  const metricNamesIn: MetricNamesIn = (start, end) => {
    const key = `${start} ${end}`;
    if (!listings.has(key)) listings.set(key, api.labelValues('__name__', { start, end }).then((r) => new Set(r.items)));
    return listings.get(key)!;
  };
  const out: DashboardEvaluation[] = [];
  for (const [i, d] of dashboards.entries()) {
    opts.onDashboard?.(d.name, i + 1, dashboards.length);
    out.push(await evaluateDashboard(api, d, { ...opts, now }, metricNamesIn));
  }
  return out;
}

// ---------------------------------------------------------------- reading the results

export interface PanelRow {
  dashboard: string;
  id: number;
  title: string;
  sources: string[];
  absent: string[];
  /** Variables the panel uses that found no value in some selection. */
  valueless: string[];
  verdicts: Partial<Record<SelectionKind, Verdict>>;
}

/** One row per panel: its verdict in each selection. */
export function panelRows(evals: readonly DashboardEvaluation[]): PanelRow[] {
  return evals.flatMap((e) =>
    e.panels.map((info, i) => ({
      dashboard: e.name,
      id: info.id,
      title: info.title,
      sources: sourcesOf(info.inputs),
      absent: info.absent,
      valueless: [...new Set(e.selections.flatMap((s) => valuelessVariables(info, s)))],
      verdicts: Object.fromEntries(e.selections.map((s) => [s.kind, verdictOf(info, s.panels[i]!, s)])),
    })),
  );
}

/** How many queries were sent: every variable query of each selection, panels and annotations once per distinct selection. */
export function queriesRun(evals: readonly DashboardEvaluation[]): number {
  const count = (s: SelectionResult) => s.variables.length + (s.sameAs ? 0 : s.annotations.length + s.panels.reduce((n, p) => n + p.queries.length, 0));
  return evals.reduce((n, e) => n + e.selections.reduce((m, s) => m + count(s), 0), 0);
}

/** Every query Prometheus refused: panel targets, variable queries and annotations. */
export function refusedQueries(evals: readonly DashboardEvaluation[]): { dashboard: string; where: string; sent: string; error: string }[] {
  const out = new Map<string, { dashboard: string; where: string; sent: string; error: string }>();
  for (const e of evals) {
    for (const s of e.selections) {
      const add = (where: string, sent: string, error: string) => out.set(`${e.name} ${where} ${sent}`, { dashboard: e.name, where, sent, error });
      for (const v of s.variables) if (v.error) add(`variable $${v.name}`, v.sent, v.error);
      for (const p of s.panels) for (const q of p.queries) if (q.error) add(`panel ${p.id} "${p.title}" query ${q.ref}`, q.sent, q.error);
      for (const a of s.annotations) if (a.error) add(`annotation "${a.ref}"`, a.sent, a.error);
    }
  }
  return [...out.values()];
}

/** The report as text: per dashboard, each panel's verdict per selection, and what each selection picked. */
export function formatEvaluation(evals: readonly DashboardEvaluation[]): string {
  const lines: string[] = [];
  for (const e of evals) {
    const kinds = e.selections.map((s) => s.kind);
    const minutes = Math.round((e.window.to - e.window.from) / 60_000);
    lines.push(`${e.name} (${e.title}), last ${minutes} min:`);
    for (const s of e.selections) {
      const picked = Object.entries(s.picked).map(([k, v]) => `$${k}=${v}`).join(' ');
      lines.push(`  ${s.kind.padEnd(4)} ${picked || '(no variables)'}`);
    }
    const rows = panelRows([e]);
    const width = Math.max(...rows.map((r) => r.title.length), 5);
    lines.push(`  ${'panel'.padEnd(width)}  ${kinds.map((k) => k.padEnd(10)).join(' ')} fed by`);
    for (const r of rows) {
      const cells = kinds.map((k) => (r.verdicts[k] ?? '').padEnd(10)).join(' ');
      const why = [...(r.absent.length ? [`absent: ${r.absent.join(', ')}`] : []), ...r.valueless.map((v) => `no value for $${v}`)];
      const absent = why.length && Object.values(r.verdicts).includes('not judged') ? ` (${why.join('; ')})` : '';
      lines.push(`  ${r.title.padEnd(width)}  ${cells} ${r.sources.join(', ')}${absent}`);
    }
  }
  return lines.join('\n');
}
