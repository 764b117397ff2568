import { RECEIVERS } from '../alertmanager.ts';
import type { AlertsConfig } from '../config.ts';
import { FAMILY_LABEL, type RuleGroup, type Severity } from '../rule.ts';
import { WATCHDOG } from '../rules/meta.ts';
import { sampleNamespace } from './case.ts';

// Routing cases for `amtool config routes test`: a label set and the receivers
// it must reach, in order. One per alert the rules define (with the labels that
// alert carries), plus alerts from elsewhere (other rule sets, unknown severity).

export interface RouteCase {
  name: string;
  labels: Record<string, string>;
  receivers: string[];
}

function receiversFor(severity: string | undefined, alertname: string, cfg: AlertsConfig): string[] {
  if (cfg.nullAlerts.some((re) => new RegExp(`^(?:${re})$`).test(alertname))) return [RECEIVERS.null];
  if (alertname === WATCHDOG) return [RECEIVERS.heartbeat];
  if (severity === 'critical') return cfg.email ? [RECEIVERS.critical, RECEIVERS.email] : [RECEIVERS.critical];
  return [RECEIVERS.alerts];
}

export function routeCases(groups: readonly RuleGroup[], cfg: AlertsConfig): RouteCase[] {
  const namespace = sampleNamespace(cfg.selectors);
  const fromRules = groups.flatMap((g) =>
    g.alerts.map((a) => {
      const labels: Record<string, string> = { alertname: a.name, severity: a.severity, namespace };
      if (a.family) labels[FAMILY_LABEL] = a.family;
      return { name: `${a.name} (${a.severity})`, labels, receivers: receiversFor(a.severity, a.name, cfg) };
    }),
  );
  const foreign = (name: string, severity?: Severity | 'info', alertname = 'KubeCPUOvercommit') => ({
    name,
    labels: { alertname, namespace: 'kube-system', ...(severity ? { severity } : {}) },
    receivers: receiversFor(severity, alertname, cfg),
  });
  return [
    ...fromRules,
    foreign('a critical from another rule set', 'critical'),
    foreign('an info alert falls through to the alerts channel', 'info'),
    foreign('an alert without severity falls through to the alerts channel'),
    // kube-prometheus alerts that misfire on k3s: null by default, to Slack when --null-alerts is ''.
    foreign('the stack\'s KubeSchedulerDown on k3s', 'critical', 'KubeSchedulerDown'),
    foreign('the stack\'s KubeProxyDown on k3s', 'critical', 'KubeProxyDown'),
    foreign('the stack\'s etcd alerts on a k3s server', 'critical', 'etcdInsufficientMembers'),
    foreign('the stack\'s InfoInhibitor', 'none', 'InfoInhibitor'),
  ];
}
