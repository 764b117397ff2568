import type { Selectors, Thresholds } from '../lib/monitoring.ts';

// The typed shape every alert is declared in, kubernetes-mixin style: a
// severity label, summary/description annotations that name the labels
// locating the problem, and a runbook per alert (runbook_url is added when the
// rules are rendered, from the configured base URL).

export type Severity = 'critical' | 'warning' | 'none';

/** A Prometheus duration: `30s`, `5m`, `1h`, `1m30s`. */
export type Duration = `${number}${'ms' | 's' | 'm' | 'h'}${string}`;

export interface Alert {
  /** Alert name, also the runbook's file name: alerts/runbooks/<name>.md. */
  name: string;
  expr: string;
  for: Duration;
  severity: Severity;
  /** One line; Go template with $labels/$value. */
  summary: string;
  /** What is wrong, where, and how bad; Go template. */
  description: string;
  /**
   * Alerts over one expression at two thresholds (warning and critical) share a
   * family: while the critical one fires, Alertmanager inhibits the warning one
   * with the same family and locating labels. Rendered as the `alertgroup` label.
   */
  family?: string;
  /** Fires all the time by design (the Watchdog heartbeat): the only kind exempt from a must-not-fire test. */
  alwaysFires?: boolean;
  /**
   * About nodes or the Pi exporter, not an object in myhero's namespace: its
   * series carry no such `namespace`. The Kubernetes delivery labels it with the
   * AlertmanagerConfig's namespace, the only alerts the Operator routes there.
   */
  outsideNamespace?: boolean;
}

export interface RuleGroup {
  /** Group name, also the rule file's stem: `myhero-ops.pi` → pi.rules.yml. */
  name: string;
  /** How often Prometheus evaluates the group. */
  interval: Duration;
  alerts: Alert[];
}

/** Which Pi alerts to build: `auto` = those that fire on absence only where node-exporter reports ARM nodes (or does not run), `on` = always, `off` = none. */
export const PI_ALERTS = ['auto', 'on', 'off'] as const;
export type PiAlerts = (typeof PI_ALERTS)[number];

/** What every rule group builder receives. */
export interface RuleContext {
  selectors: Selectors;
  thresholds: Thresholds;
  piAlerts: PiAlerts;
}

/** Label carrying an alert's family, compared by the inhibit rule. */
export const FAMILY_LABEL = 'alertgroup';

/** Labels that locate a problem; the inhibit rule compares them so a critical only silences its own target's warning. */
export const LOCATING_LABELS = ['namespace', 'instance', 'job', 'node', 'pod', 'deployment', 'horizontalpodautoscaler'] as const;

export function allAlerts(groups: readonly RuleGroup[]): Alert[] {
  return groups.flatMap((g) => g.alerts);
}
