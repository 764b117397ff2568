import { stringify } from 'yaml';
import { FAMILY_LABEL, type Alert, type Duration, type RuleGroup } from './rule.ts';

// Rule groups → Prometheus rule files and the Prometheus Operator's
// PrometheusRule. Pure: the caller decides where the text goes.

export interface RenderOptions {
  /** runbook_url = `${runbookBaseUrl}/<Alert>.md`. */
  runbookBaseUrl: string;
  /** Test-only: evaluate every group this often instead of its own interval. */
  interval?: Duration;
  /** Test-only: shorter `for` durations by alert name (end-to-end runs cannot wait minutes). */
  forOverrides?: Readonly<Record<string, Duration>>;
  /** The `namespace` label of alerts about nodes and the Pi exporter (Alert.outsideNamespace); kept as the series say when unset. */
  outsideNamespace?: string;
}

export function runbookUrl(base: string, alert: string): string {
  return `${base.replace(/\/+$/, '')}/${alert}.md`;
}

/** The rule file's stem of a group: `myhero-ops.pi` → `pi`. */
export function groupStem(group: RuleGroup): string {
  return group.name.replace(/^myhero-ops\./, '');
}

function renderAlert(a: Alert, opts: RenderOptions) {
  return {
    alert: a.name,
    expr: a.expr,
    for: opts.forOverrides?.[a.name] ?? a.for,
    labels: {
      severity: a.severity,
      ...(a.family ? { [FAMILY_LABEL]: a.family } : {}),
      ...(a.outsideNamespace && opts.outsideNamespace ? { namespace: opts.outsideNamespace } : {}),
    },
    annotations: {
      summary: a.summary,
      description: a.description,
      runbook_url: runbookUrl(opts.runbookBaseUrl, a.name),
    },
  };
}

/** The `groups:` document Prometheus loads from rule_files (and PrometheusRule's spec). */
export function ruleDocument(groups: readonly RuleGroup[], opts: RenderOptions) {
  return {
    groups: groups.map((g) => ({
      name: g.name,
      interval: opts.interval ?? g.interval,
      rules: g.alerts.map((a) => renderAlert(a, opts)),
    })),
  };
}

/** YAML as people read it: block scalars for multi-line PromQL, no line folding. */
export function toYaml(doc: unknown): string {
  return stringify(doc, { lineWidth: 0 });
}

/** One plain rule file per group: `<stem>.rules.yml`. */
export function ruleFiles(groups: readonly RuleGroup[], opts: RenderOptions): Record<string, string> {
  return Object.fromEntries(groups.map((g) => [`${groupStem(g)}.rules.yml`, toYaml(ruleDocument([g], opts))]));
}

export interface PrometheusRuleMeta {
  name: string;
  namespace: string;
  /** Labels the Prometheus CR's ruleSelector matches (kube-prometheus: role/prometheus; the Helm chart: release). */
  labels: Record<string, string>;
}

/** The Prometheus Operator's PrometheusRule holding every group. */
export function prometheusRule(groups: readonly RuleGroup[], opts: RenderOptions, meta: PrometheusRuleMeta): string {
  return toYaml({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: meta.name, namespace: meta.namespace, labels: { 'app.kubernetes.io/part-of': 'myhero-ops', ...meta.labels } },
    spec: ruleDocument(groups, opts),
  });
}
