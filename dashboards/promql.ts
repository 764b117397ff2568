import { rate as rateOver } from '../lib/promql.ts';

// PromQL for the dashboards: the suite's one builder (lib/promql.ts), with
// Grafana's rate window as the default, and a gate on a dashboard variable.
// Metric names always come in from lib/catalog.ts.

export { bucket, increase, orZero, quantile, sel, sumBy, type Matchers, type Metric } from '../lib/promql.ts';

/** Grafana widens `$__rate_interval` to at least four scrape intervals, so rates never come out empty. */
const RATE_WINDOW = '$__rate_interval';

export const rate = (selector: string, window = RATE_WINDOW): string => rateOver(selector, window);

/**
 * Keep `expr` only while the dashboard variable `$variable` equals `value`.
 * PromQL cannot compare strings, so both sides become the label of a one-sample
 * vector and must match on it; Grafana substitutes `$variable` before the query runs.
 */
export const when = (variable: string, value: string, expr: string): string =>
  `(${expr}) and on() (label_replace(vector(1), "${variable}", "$${variable}", "", "") == on(${variable}) label_replace(vector(1), "${variable}", "${value}", "", ""))`;
