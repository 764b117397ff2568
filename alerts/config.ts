import { setting, type Resolved } from '../lib/config.ts';
import { UserError } from '../lib/errors.ts';
import { monitoringFromSettings, monitoringSpec, type MonitoringConfig } from '../lib/monitoring.ts';
import { list, oneOf, string, bool, type Parser } from '../lib/parse.ts';
import { DEFAULT_TIMING, K3S_NULL_ALERTS, operatorSecretPath, type EmailSettings, type SlackSettings, type Timing } from './alertmanager.ts';
import { PI_ALERTS, type Duration, type PiAlerts } from './rule.ts';

// The `alerts` settings (YAML section `alerts`, env, flags) on top of the
// shared monitoring config (section `monitoring`, lib/monitoring.ts), and the
// one config object the rules, routes and manifests are built from.

export interface AlertsConfig extends MonitoringConfig {
  piAlerts: PiAlerts;
  slack: SlackSettings;
  email?: EmailSettings;
  timing: Timing;
  /** Alert names (regexes) routed to the null receiver. */
  nullAlerts: string[];
  kubernetes: {
    /** Namespace of the monitoring stack: the PrometheusRule and the optional whole-config Secret go there. */
    namespace: string;
    /**
     * Namespace of the AlertmanagerConfig and the Secrets it reads. The Operator
     * routes to it only alerts whose `namespace` label is this one.
     */
    alertmanagerConfigNamespace: string;
    /** Labels the Prometheus CR's ruleSelector looks for (the release label included). */
    ruleLabels: Record<string, string>;
    slackSecret: string;
    smtpSecret: string;
    /** Secret holding alertmanager.yaml for the Operator's Alertmanager (kube-prometheus: alertmanager-main). */
    alertmanagerSecret: string;
  };
}

export const SLACK_SECRET = { name: 'myhero-alertmanager-slack', criticalKey: 'critical-url', alertsKey: 'alerts-url' } as const;
export const SMTP_SECRET = 'myhero-alertmanager-smtp';

/** A Prometheus/Alertmanager duration string, checked and kept as text. */
const promDuration: Parser<Duration> = (raw, name) => {
  const s = raw.trim();
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(s)) throw new UserError(`invalid ${name} "${raw}": expected a duration such as 30s, 5m, 4h`, 2);
  return s as Duration;
};

/** `k=v,k2=v2` → a label map. */
const labelList: Parser<Record<string, string>> = (raw, name) =>
  Object.fromEntries(
    list(string)(raw, name).map((kv) => {
      const m = /^([a-zA-Z_][a-zA-Z0-9_./-]*)=(.*)$/.exec(kv);
      if (!m) throw new UserError(`invalid ${name} "${kv}": expected key=value`, 2);
      return [m[1]!, m[2]!];
    }),
  );

/** Settings shared by `alerts build` and `alerts test`: the monitoring config, then the alerts' own. */
export const alertsSpec = {
  ...monitoringSpec,
  piAlerts: setting({
    flag: '--pi-alerts <auto|on|off>',
    describe: 'Pi alerts: auto = only where node-exporter reports ARM nodes (or does not run), on = always, off = not built',
    default: 'auto' as PiAlerts,
    parse: oneOf(PI_ALERTS),
  }),
  nullAlerts: setting({
    flag: '--null-alerts <names>',
    describe: "alert names (regexes, comma-separated) sent to the null receiver: the stack's k3s misfires ('' = none)",
    default: [...K3S_NULL_ALERTS] as string[],
    parse: list(string),
  }),
  slackCriticalChannel: setting({ flag: '--slack-critical-channel <ch>', describe: 'Slack channel for critical alerts', default: '#myhero-critical', parse: string }),
  slackAlertsChannel: setting({ flag: '--slack-alerts-channel <ch>', describe: 'Slack channel for warnings', default: '#myhero-alerts', parse: string }),
  slackCriticalUrlFile: setting({
    flag: '--slack-critical-url-file <path>',
    describe: "file Alertmanager reads the critical channel's webhook URL from",
    default: operatorSecretPath(SLACK_SECRET.name, SLACK_SECRET.criticalKey),
    parse: string,
  }),
  slackAlertsUrlFile: setting({
    flag: '--slack-alerts-url-file <path>',
    describe: "file Alertmanager reads the alerts channel's webhook URL from",
    default: operatorSecretPath(SLACK_SECRET.name, SLACK_SECRET.alertsKey),
    parse: string,
  }),
  emailTo: setting({ flag: '--email-to <addr>', describe: 'also send criticals by email to this address (off when empty)', default: '', parse: string }),
  emailFrom: setting({ flag: '--email-from <addr>', describe: 'sender of alert emails', default: 'alertmanager@localhost', parse: string }),
  smtpSmarthost: setting({ flag: '--smtp-smarthost <host:port>', describe: 'SMTP relay for alert emails', default: 'localhost:25', parse: string }),
  smtpUsername: setting({ flag: '--smtp-username <user>', describe: 'SMTP auth user (none when empty)', default: '', parse: string }),
  smtpPasswordFile: setting({ flag: '--smtp-password-file <path>', describe: 'file Alertmanager reads the SMTP password from', default: operatorSecretPath(SMTP_SECRET, 'password'), parse: string }),
  smtpRequireTls: setting({ flag: '--smtp-require-tls <bool>', describe: 'require STARTTLS to the relay', default: true, parse: bool }),
  groupWait: setting({ flag: '--group-wait <d>', describe: 'Alertmanager group_wait', default: DEFAULT_TIMING.groupWait, parse: promDuration }),
  groupInterval: setting({ flag: '--group-interval <d>', describe: 'Alertmanager group_interval', default: DEFAULT_TIMING.groupInterval, parse: promDuration }),
  repeatInterval: setting({ flag: '--repeat-interval <d>', describe: 'repeat_interval of warnings', default: DEFAULT_TIMING.repeatInterval, parse: promDuration }),
  criticalRepeatInterval: setting({ flag: '--critical-repeat-interval <d>', describe: 'repeat_interval of criticals', default: DEFAULT_TIMING.criticalRepeatInterval, parse: promDuration }),
  resolveTimeout: setting({ flag: '--resolve-timeout <d>', describe: 'Alertmanager resolve_timeout', default: DEFAULT_TIMING.resolveTimeout, parse: promDuration }),
  monitoringNamespace: setting({ flag: '--monitoring-namespace <ns>', describe: 'namespace of the PrometheusRule (and of the optional whole-config Secret)', default: 'monitoring', parse: string }),
  alertmanagerConfigNamespace: setting({
    flag: '--alertmanager-config-namespace <ns>',
    describe: "namespace of the AlertmanagerConfig and its Secrets (default: myhero's namespace, else the monitoring namespace)",
    default: '',
    parse: string,
  }),
  ruleLabels: setting({
    flag: '--rule-labels <k=v,...>',
    describe: "labels the Prometheus CR's ruleSelector matches besides --release (kube-prometheus: prometheus, role)",
    default: 'prometheus=k8s,role=alert-rules',
    parse: (raw, name) => (labelList(raw, name), raw),
  }),
  alertmanagerSecret: setting({ flag: '--alertmanager-secret <name>', describe: 'Secret holding alertmanager.yaml for the Operator', default: 'alertmanager-main', parse: string }),
};

export type AlertsSettings = Resolved<typeof alertsSpec>;

export function configFromSettings(v: AlertsSettings): AlertsConfig {
  const monitoring = monitoringFromSettings(v);
  return {
    ...monitoring,
    piAlerts: v.piAlerts,
    nullAlerts: v.nullAlerts,
    slack: {
      criticalChannel: v.slackCriticalChannel,
      alertsChannel: v.slackAlertsChannel,
      criticalUrlFile: v.slackCriticalUrlFile,
      alertsUrlFile: v.slackAlertsUrlFile,
    },
    email: v.emailTo
      ? {
          to: v.emailTo,
          from: v.emailFrom,
          smarthost: v.smtpSmarthost,
          authUsername: v.smtpUsername,
          authPasswordFile: v.smtpPasswordFile,
          requireTls: v.smtpRequireTls,
        }
      : undefined,
    timing: {
      groupWait: v.groupWait,
      groupInterval: v.groupInterval,
      repeatInterval: v.repeatInterval,
      criticalRepeatInterval: v.criticalRepeatInterval,
      resolveTimeout: v.resolveTimeout,
    },
    kubernetes: {
      namespace: v.monitoringNamespace,
      alertmanagerConfigNamespace: v.alertmanagerConfigNamespace || monitoring.selectors.namespace || v.monitoringNamespace,
      ruleLabels: { ...labelList(v.ruleLabels, '--rule-labels'), ...(monitoring.release ? { release: monitoring.release } : {}) },
      slackSecret: SLACK_SECRET.name,
      smtpSecret: SMTP_SECRET,
      alertmanagerSecret: v.alertmanagerSecret,
    },
  };
}
