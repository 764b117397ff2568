import type { EXTERNAL, ISTIO, KSM, LOADTEST, NODE, PROMETHEUS, RPI, TRAEFIK, TWIN } from './catalog.ts';

// The one PromQL builder the alerts and the dashboards write their queries
// with. Selectors take a metric name from the catalogue (the type refuses any
// other string) and typed label matchers; the rest are the few functions both
// sides compose. Grafana variables (`$namespace`) are plain values here: the
// dashboards substitute nothing themselves.

type Values<T> = T[keyof T];

/** A metric name the catalogue holds. */
export type CatalogMetric =
  | Values<typeof TWIN>
  | Values<typeof LOADTEST>
  | Values<typeof RPI>
  | Values<typeof NODE>
  | Values<typeof KSM>
  | Values<typeof TRAEFIK>
  | Values<typeof ISTIO>
  | Values<typeof PROMETHEUS>
  | (typeof EXTERNAL)[keyof typeof EXTERNAL][number];

/** A catalogue metric or the bucket series of a catalogue histogram. */
export type Metric = CatalogMetric | `${CatalogMetric}_bucket`;

/**
 * A label matcher: a plain string is an equality match, `{ re }` a regex match,
 * `{ ne }` and `{ notRe }` their negations. `undefined` leaves the label out
 * (e.g. a namespace configured as "any").
 */
export type Matcher = string | { re: string } | { ne: string } | { notRe: string };
export type Matchers = Readonly<Record<string, Matcher | undefined>>;

const quote = (value: string): string => JSON.stringify(value);

function matcher(label: string, m: Matcher): string {
  if (typeof m === 'string') return `${label}=${quote(m)}`;
  if ('re' in m) return `${label}=~${quote(m.re)}`;
  if ('ne' in m) return `${label}!=${quote(m.ne)}`;
  return `${label}!~${quote(m.notRe)}`;
}

/** `metric{l1="v1", l2=~"re"}`, matchers in the order given; undefined ones are left out. */
export function sel(metric: Metric, matchers: Matchers = {}): string {
  const parts = Object.entries(matchers).flatMap(([label, m]) => (m === undefined ? [] : [matcher(label, m)]));
  return parts.length ? `${metric}{${parts.join(', ')}}` : metric;
}

/** The bucket series of a catalogue histogram named by its base name. */
export const bucket = <M extends CatalogMetric>(histogram: M): `${M}_bucket` => `${histogram}_bucket`;

export const rate = (selector: string, window: string): string => `rate(${selector}[${window}])`;
export const increase = (selector: string, window: string): string => `increase(${selector}[${window}])`;

/**
 * `expr`, or 0 for each series of `like` where `expr` has none: a counter that
 * has not moved yet, or whose process is gone, reads as zero instead of
 * emptying the whole expression.
 */
export const orZero = (expr: string, like: string): string => `(${expr} or ${like} * 0)`;

export const sumBy = (labels: readonly string[], expr: string): string =>
  labels.length ? `sum by (${labels.join(', ')}) (${expr})` : `sum(${expr})`;

/** `histogram_quantile` over already-rated bucket series, kept apart by `by`. */
export const quantile = (q: number, ratedBuckets: string, by: readonly string[]): string =>
  `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (${ratedBuckets}))`;
