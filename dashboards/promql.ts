// Small PromQL builders for the dashboards: selectors, rates, quantiles and a
// variable gate. Metric names always come in from lib/catalog.ts.

/** `metric{m1, m2}`; matchers are written as PromQL, e.g. `job=~"$job"`. */
export const sel = (metric: string, ...matchers: string[]): string =>
  matchers.length ? `${metric}{${matchers.join(', ')}}` : metric;

/** Grafana widens `$__rate_interval` to at least four scrape intervals, so rates never come out empty. */
export const RATE_WINDOW = '$__rate_interval';

export const rate = (selector: string, window = RATE_WINDOW): string => `rate(${selector}[${window}])`;
export const increase = (selector: string, window: string): string => `increase(${selector}[${window}])`;

export const sumBy = (labels: readonly string[], expr: string): string =>
  labels.length ? `sum by (${labels.join(', ')}) (${expr})` : `sum(${expr})`;

/** The bucket series of a histogram named in the catalogue by its base name. */
export const bucket = (histogram: string): string => `${histogram}_bucket`;

/** `histogram_quantile` over already-rated bucket series, kept apart by `by`. */
export const quantile = (q: number, ratedBuckets: string, by: readonly string[]): string =>
  `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (${ratedBuckets}))`;

/**
 * Keep `expr` only while the dashboard variable `$variable` equals `value`.
 * PromQL cannot compare strings, so both sides become the label of a one-sample
 * vector and must match on it; Grafana substitutes `$variable` before the query runs.
 */
export const when = (variable: string, value: string, expr: string): string =>
  `(${expr}) and on() (label_replace(vector(1), "${variable}", "$${variable}", "", "") == on(${variable}) label_replace(vector(1), "${variable}", "${value}", "", ""))`;
