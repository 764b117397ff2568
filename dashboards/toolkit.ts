import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as GaugeBuilder } from '@grafana/grafana-foundation-sdk/gauge';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelineBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PI_THERMAL } from '../lib/defaults.ts';
import type { Thresholds } from '../lib/monitoring.ts';

// The shared panel and variable toolkit every dashboard is built from. Each
// helper demands what the lint rules demand (a description, a unit, queries),
// so a dashboard that compiles is already most of the way to a clean lint.

export * as units from '@grafana/grafana-foundation-sdk/units';

/** Every panel, target and query variable points at this variable, never at a datasource UID. */
export const DATASOURCE_VAR = 'datasource';
export const promDatasource = (): common.DataSourceRef => ({ type: 'prometheus', uid: `\${${DATASOURCE_VAR}}` });

/** Grafana custom units (`suffix:` appends the text to the number) for the vote counters. */
export const VOTES = 'suffix:votes';
export const VOTES_PER_SECOND = 'suffix:votes/s';

/**
 * A custom "All" value that also matches series without the label, for the one
 * variable where that is intended (`$namespace`: the lab's series have none).
 * Every other variable's All means "the values found" (Grafana then sends
 * `(a|b|c)`): a `.*` there would also select the same label of other jobs.
 */
export const ALL_INCLUDING_ABSENT = '.*';

// ---------------------------------------------------------------- variables

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(DATASOURCE_VAR)
    .label('Data source')
    .description('The Prometheus data source every panel queries.')
    .type('prometheus');
}

export interface QueryVariableSpec {
  name: string;
  label: string;
  description: string;
  /** A Grafana Prometheus variable query: `label_values(metric{...}, label)` or `query_result(expr)`. */
  query: string;
  /** Grafana's capture regex applied to each value, e.g. to strip a port from `instance`. */
  regex?: string;
  /** Multi-select with an "All" option (default); false for a single choice. */
  multi?: boolean;
  /** A custom value for All (see ALL_INCLUDING_ABSENT); without it All is every value found. */
  allValue?: string;
}

export function queryVariable(spec: QueryVariableSpec): dashboard.QueryVariableBuilder {
  const multi = spec.multi ?? true;
  const v = new dashboard.QueryVariableBuilder(spec.name)
    .label(spec.label)
    .description(spec.description)
    .datasource(promDatasource())
    .query(spec.query)
    .definition(spec.query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.NaturalAsc)
    .multi(multi)
    .includeAll(multi);
  if (multi) v.current({ text: 'All', value: '$__all', selected: true });
  if (multi && spec.allValue) v.allValue(spec.allValue);
  if (spec.regex) v.regex(spec.regex);
  return v;
}

export interface CustomVariableSpec {
  name: string;
  label: string;
  description: string;
  values: readonly string[];
  current: string;
}

export function customVariable(spec: CustomVariableSpec): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder(spec.name)
    .label(spec.label)
    .description(spec.description)
    .values(spec.values.join(','))
    .current({ text: spec.current, value: spec.current, selected: true })
    .options(spec.values.map((v) => ({ text: v, value: v, selected: v === spec.current })));
}

/** `$namespace` from a series that carries the label. */
export const namespaceVariable = (metric: string): dashboard.QueryVariableBuilder =>
  queryVariable({
    name: 'namespace',
    label: 'Namespace',
    description: 'Kubernetes namespace of the myhero workloads (All also matches series without the label, e.g. the lab).',
    query: `label_values(${metric}, namespace)`,
    allValue: ALL_INCLUDING_ABSENT,
  });

/** `$job` from the scrape jobs exposing `metric`. */
export const jobVariable = (metric: string, what: string): dashboard.QueryVariableBuilder =>
  queryVariable({
    name: 'job',
    label: 'Job',
    description: `Prometheus scrape job(s) of ${what}.`,
    query: `label_values(${metric}, job)`,
  });

// ---------------------------------------------------------------- thresholds and mappings

export type Step = [value: number, color: string];

export function steps(base: string, ...rest: Step[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...rest.map(([value, color]) => ({ value, color }))]);
}

/** The Pi thermal bands: soft limit (60 °C on a 3B+), warning (70 °C), firmware throttling (80 °C). */
export const thermalSteps = (): dashboard.ThresholdsConfigBuilder =>
  steps('green', [PI_THERMAL.softLimit, 'yellow'], [PI_THERMAL.warning, 'orange'], [PI_THERMAL.throttle, 'red']);

/**
 * Budget lines of the error-ratio and latency panels: red at the threshold of the
 * matching alert (MyheroErrorRatioHigh, MyheroLatencyP99High, both from the
 * monitoring config), orange where the ratio is a fifth of it or the latency
 * half of it, an early look before it fires.
 */
export const errorRatioBudget = (t: Thresholds) =>
  ({
    thresholds: steps('green', [t.errorRatio / 5, 'orange'], [t.errorRatio, 'red']),
    thresholdStyle: 'lines',
    min: 0,
  }) as const satisfies Partial<TimeseriesSpec>;
export const latencyBudget = (t: Thresholds) =>
  ({
    thresholds: steps('green', [t.appLatencyP99Seconds / 2, 'orange'], [t.appLatencyP99Seconds, 'red']),
    thresholdStyle: 'lines',
    min: 0,
  }) as const satisfies Partial<TimeseriesSpec>;

/** Show values as words in colours, e.g. `{ 0: ['DOWN', 'red'], 1: ['UP', 'green'] }`. */
export function valueMappings(entries: Record<string, [text: string, color: string]>): dashboard.ValueMapping[] {
  const options = Object.fromEntries(Object.entries(entries).map(([value, [text, color]], index) => [value, { text, color, index }]));
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

/** 0 → `off` in green, 1 → `on` in red: for flags such as throttling bits. */
export const flagMappings = (off: string, on: string): dashboard.ValueMapping[] => valueMappings({ 0: [off, 'green'], 1: [on, 'red'] });

// ---------------------------------------------------------------- queries and panels

export interface Query {
  expr: string;
  legend: string;
  /** Instant query (stat/gauge of the current value); range otherwise. */
  instant?: boolean;
}

export const q = (expr: string, legend: string, instant = false): Query => ({ expr, legend, instant });

export interface Link {
  title: string;
  url: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Grid width (of 24) and height. */
  width?: number;
  height?: number;
  min?: number;
  max?: number;
  decimals?: number;
  thresholds?: dashboard.ThresholdsConfigBuilder;
  mappings?: dashboard.ValueMapping[];
  /** Runbooks and related dashboards for this panel. */
  links?: Link[];
}

/** The builder methods every SDK panel builder shares. */
interface PanelBuilderLike<T> extends cog.Builder<dashboard.Panel> {
  title(t: string): T;
  description(d: string): T;
  unit(u: string): T;
  datasource(d: common.DataSourceRef): T;
  withTarget(t: cog.Builder<cog.Dataquery>): T;
  span(w: number): T;
  height(h: number): T;
  min(n: number): T;
  max(n: number): T;
  decimals(n: number): T;
  thresholds(t: cog.Builder<dashboard.ThresholdsConfig>): T;
  mappings(m: dashboard.ValueMapping[]): T;
  links(l: cog.Builder<dashboard.DashboardLink>[]): T;
}

export function linkBuilder(link: Link): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder(link.title)
    .type(dashboard.DashboardLinkType.Link)
    .url(link.url)
    .tooltip(link.title)
    .targetBlank(true);
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function applyCommon<T extends PanelBuilderLike<T>>(b: T, spec: PanelSpec): T {
  b.title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(promDatasource())
    .span(spec.width ?? 12)
    .height(spec.height ?? 8);
  spec.queries.forEach((query, i) => {
    const t = new DataqueryBuilder()
      .datasource(promDatasource())
      .refId(REF_IDS[i]!)
      .expr(query.expr)
      .legendFormat(query.legend);
    if (query.instant) t.instant();
    else t.range();
    b.withTarget(t);
  });
  if (spec.min !== undefined) b.min(spec.min);
  if (spec.max !== undefined) b.max(spec.max);
  if (spec.decimals !== undefined) b.decimals(spec.decimals);
  if (spec.thresholds) b.thresholds(spec.thresholds);
  if (spec.mappings) b.mappings(spec.mappings);
  if (spec.links?.length) b.links(spec.links.map(linkBuilder));
  return b;
}

export interface TimeseriesSpec extends PanelSpec {
  /** Draw the thresholds as coloured bands (temperatures) or dashed lines (budgets). */
  thresholdStyle?: 'bands' | 'lines';
  stack?: boolean;
  /** Legend as a table with these reducers, e.g. ['lastNotNull', 'max']. */
  legendCalcs?: string[];
}

export function timeseries(spec: TimeseriesSpec): TimeseriesBuilder {
  const b = applyCommon(new TimeseriesBuilder(), spec)
    .lineWidth(1)
    .fillOpacity(spec.stack ? 30 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .placement(common.LegendPlacement.Bottom)
        .displayMode(spec.legendCalcs ? common.LegendDisplayMode.Table : common.LegendDisplayMode.List)
        .calcs(spec.legendCalcs ?? []),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (spec.stack) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (spec.thresholdStyle) {
    const mode = spec.thresholdStyle === 'bands' ? common.GraphThresholdsStyleMode.LineAndArea : common.GraphThresholdsStyleMode.Dashed;
    b.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(mode));
  }
  return b;
}

const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

export interface StatSpec extends PanelSpec {
  /** Show the series name (e.g. `{{mode}}`) instead of, or next to, the number. */
  text?: 'value' | 'name' | 'value_and_name';
  /** Colour the background by threshold instead of the number. */
  background?: boolean;
  sparkline?: boolean;
}

const TEXT_MODES = {
  value: common.BigValueTextMode.Value,
  name: common.BigValueTextMode.Name,
  value_and_name: common.BigValueTextMode.ValueAndName,
} as const;

export function stat(spec: StatSpec): StatBuilder {
  return applyCommon(new StatBuilder(), spec)
    .reduceOptions(lastValue())
    .textMode(spec.text ? TEXT_MODES[spec.text] : common.BigValueTextMode.Auto)
    .colorMode(spec.background ? common.BigValueColorMode.Background : common.BigValueColorMode.Value)
    .graphMode(spec.sparkline ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None);
}

export function gauge(spec: PanelSpec): GaugeBuilder {
  return applyCommon(new GaugeBuilder(), spec).reduceOptions(lastValue()).showThresholdMarkers(true);
}

/** Discrete states over time (throttling flags, readiness), coloured by `mappings`. */
export function stateTimeline(spec: PanelSpec): StateTimelineBuilder {
  return applyCommon(new StateTimelineBuilder(), spec)
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .fillOpacity(80)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom));
}

export const row = (title: string): dashboard.RowBuilder => new dashboard.RowBuilder(title);

// ---------------------------------------------------------------- dashboards

/** What the registry hands each dashboard from its row in the table: its identity, the suite's tag and its links. */
export interface DashboardHead {
  uid: string;
  title: string;
  tags: readonly string[];
  links: cog.Builder<dashboard.DashboardLink>[];
}

/** What a dashboard says about itself. */
export interface DashboardSpec {
  description: string;
  /** Tags beside the head's. */
  tags: string[];
  variables: cog.Builder<dashboard.VariableModel>[];
  /** Default time range, e.g. `now-1h`. */
  from?: string;
}

/** A dashboard with the suite's conventions: datasource variable first, shared crosshair, 30 s refresh. */
export function newDashboard(head: DashboardHead, spec: DashboardSpec): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(head.title)
    .uid(head.uid)
    .description(spec.description)
    .tags([...head.tags, ...spec.tags])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: spec.from ?? 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .variables([datasourceVariable(), ...spec.variables])
    .links(head.links);
}

/**
 * The finished JSON: plain data (the SDK's query objects carry a marker method
 * that JSON drops), links in the top bar, and panel ids numbered in reading
 * order, including panels inside collapsed rows, so ids are unique and stable
 * across builds.
 */
export function finish(built: dashboard.Dashboard): dashboard.Dashboard {
  const out = JSON.parse(JSON.stringify(built)) as dashboard.Dashboard;
  // The SDK defaults links and annotation toggles to Grafana 12's controls
  // dropdown; without it they show in the dashboard's top bar on every version.
  for (const link of out.links ?? []) delete link.placement;
  for (const annotation of out.annotations.list ?? []) delete annotation.placement;
  let id = 0;
  for (const p of out.panels ?? []) {
    p.id = ++id;
    if (p.type === 'row') for (const inner of (p as dashboard.RowPanel).panels) inner.id = ++id;
  }
  return out;
}

// ---------------------------------------------------------------- annotations

/** Grafana's own annotation store, which the HTTP API and the chaos commands write to. */
export const GRAFANA_DATASOURCE: common.DataSourceRef = { type: 'grafana', uid: '-- Grafana --' };

/** Annotations from Grafana's store carrying any of `tags` (e.g. chaos actions). */
export function tagAnnotation(name: string, tags: string[], color: string): dashboard.AnnotationQueryBuilder {
  // The SDK types an annotation target as a data query; Grafana's tag filter is
  // one, so it gets the marker the SDK's custom-query extension point asks for.
  const target: cog.Builder<cog.Dataquery> = {
    build: () => ({
      ...new dashboard.AnnotationTargetBuilder().type('tags').tags(tags).matchAny(true).limit(500).build(),
      _implementsDataqueryVariant() {},
    }),
  };
  return new dashboard.AnnotationQueryBuilder()
    .name(name)
    .datasource(GRAFANA_DATASOURCE)
    .enable(true)
    .iconColor(color)
    .target(target);
}

/** Annotations from a PromQL expression: one per series while it has samples. */
export function promAnnotation(spec: { name: string; expr: string; title: string; text: string; tagKeys: string[]; color: string }) {
  return new dashboard.AnnotationQueryBuilder()
    .name(spec.name)
    .datasource(promDatasource())
    .enable(true)
    .iconColor(spec.color)
    .expr(spec.expr)
    .titleFormat(spec.title)
    .textFormat(spec.text)
    .tagKeys(spec.tagKeys.join(','))
    .step('30s')
    .useValueForTime(false);
}
