import type { Duration } from '../rule.ts';
import type { Selectors } from '../../lib/monitoring.ts';
import { sel, type Metric } from '../../lib/promql.ts';

// promtool unit-test cases as data: input series, a time, and the alerts that
// must be firing then (none = must not fire). Cases are built from the same
// selectors and thresholds as the rules, so `alerts test` checks the rules a
// user actually deploys. Expected summaries and descriptions are written out
// in full: they are what a person reads in Slack.

export interface SeriesInput {
  series: string;
  /** promtool expanding notation: `0+10x20`, `1 0x5`, `_` for a gap. */
  values: string;
}

export interface ExpectedAlert {
  /** Every label of the alert except alertname (promtool compares the whole set). */
  labels: Record<string, string>;
  summary: string;
  description: string;
}

export interface AlertCase {
  alert: string;
  /** What the case shows; promtool prints it when the case fails. */
  name: string;
  /** Spacing of the input samples. */
  interval?: Duration;
  series: SeriesInput[];
  evalTime: Duration;
  /** Alerts firing at evalTime; an empty list means the alert must not fire. */
  expect: ExpectedAlert[];
}

export function input(metric: Metric, labels: Record<string, string>, values: string): SeriesInput {
  return { series: sel(metric, labels), values };
}

/** The namespace input series carry: the configured one, or a sample when the rules match any namespace. */
export function sampleNamespace(s: Selectors): string {
  return s.namespace || 'lab';
}
