import { FAMILY_LABEL, LOCATING_LABELS, type Duration } from './rule.ts';
import { WATCHDOG } from './rules/meta.ts';

// alertmanager.yml as data: who hears what, how often, and what a critical
// silences. Webhook URLs never appear here: Alertmanager reads them from files
// (slack_configs.api_url_file, Alertmanager ≥ 0.22) mounted from a Secret.

export interface SlackSettings {
  criticalChannel: string;
  alertsChannel: string;
  /** Files holding the incoming-webhook URLs; a Slack webhook posts to the one channel it was made for. */
  criticalUrlFile: string;
  alertsUrlFile: string;
}

export interface EmailSettings {
  to: string;
  from: string;
  /** SMTP relay, host:port. */
  smarthost: string;
  authUsername: string;
  /** File holding the SMTP password (never inline). */
  authPasswordFile: string;
  requireTls: boolean;
}

export interface Timing {
  groupWait: Duration;
  groupInterval: Duration;
  repeatInterval: Duration;
  criticalRepeatInterval: Duration;
  resolveTimeout: Duration;
}

export interface AlertmanagerSettings {
  slack: SlackSettings;
  /** Criticals also go to email through the SMTP relay when set. */
  email?: EmailSettings;
  timing: Timing;
  /** Where the Slack/email templates are: relative to alertmanager.yml, or absolute (the Operator's /etc/alertmanager/config). */
  templateGlob: string;
}

export const RECEIVERS = {
  critical: 'slack-critical',
  alerts: 'slack-alerts',
  email: 'email-critical',
  /** Receives the Watchdog; no integration by default (point a dead man's switch at it to watch the pipeline). */
  heartbeat: 'heartbeat',
} as const;

export const DEFAULT_TIMING: Timing = {
  groupWait: '30s',
  groupInterval: '5m',
  repeatInterval: '4h',
  criticalRepeatInterval: '1h',
  resolveTimeout: '5m',
};

export const GROUP_BY = ['alertname', 'namespace'] as const;

function slackConfig(channel: string, urlFile: string) {
  return {
    api_url_file: urlFile,
    channel,
    send_resolved: true,
    title: '{{ template "myhero.slack.title" . }}',
    text: '{{ template "myhero.slack.text" . }}',
    color: '{{ template "myhero.slack.color" . }}',
    fallback: '{{ template "myhero.slack.title" . }}',
  };
}

/** The routing tree, receivers and inhibit rules. */
export function alertmanagerConfig(am: AlertmanagerSettings) {
  const t = am.timing;
  const email = am.email;
  const critical = 'severity="critical"';
  return {
    global: {
      resolve_timeout: t.resolveTimeout,
      ...(email
        ? {
            smtp_smarthost: email.smarthost,
            smtp_from: email.from,
            smtp_require_tls: email.requireTls,
            ...(email.authUsername ? { smtp_auth_username: email.authUsername, smtp_auth_password_file: email.authPasswordFile } : {}),
          }
        : {}),
    },
    templates: [am.templateGlob],
    route: {
      receiver: RECEIVERS.alerts,
      group_by: [...GROUP_BY],
      group_wait: t.groupWait,
      group_interval: t.groupInterval,
      repeat_interval: t.repeatInterval,
      routes: [
        { receiver: RECEIVERS.heartbeat, matchers: [`alertname="${WATCHDOG}"`], repeat_interval: '5m' },
        { receiver: RECEIVERS.critical, matchers: [critical], repeat_interval: t.criticalRepeatInterval, ...(email ? { continue: true } : {}) },
        ...(email ? [{ receiver: RECEIVERS.email, matchers: [critical], repeat_interval: t.criticalRepeatInterval }] : []),
        // Warnings, and anything without a known severity, fall through to the root receiver: nothing is dropped.
        { receiver: RECEIVERS.alerts, matchers: ['severity="warning"'] },
      ],
    },
    inhibit_rules: [
      {
        // A critical silences the warning of its own family on the same target
        // (e.g. PiCpuTemperatureCritical → PiCpuTemperatureHigh on that Pi). Both
        // sides must carry a family: labels missing on both sides count as equal,
        // so without the guard any critical would silence every unrelated warning.
        source_matchers: [critical, `${FAMILY_LABEL}=~".+"`],
        target_matchers: ['severity="warning"', `${FAMILY_LABEL}=~".+"`],
        equal: [FAMILY_LABEL, ...LOCATING_LABELS],
      },
    ],
    receivers: [
      { name: RECEIVERS.critical, slack_configs: [slackConfig(am.slack.criticalChannel, am.slack.criticalUrlFile)] },
      { name: RECEIVERS.alerts, slack_configs: [slackConfig(am.slack.alertsChannel, am.slack.alertsUrlFile)] },
      ...(email
        ? [
            {
              name: RECEIVERS.email,
              email_configs: [{ to: email.to, send_resolved: true, headers: { Subject: '{{ template "myhero.email.subject" . }}' } }],
            },
          ]
        : []),
      { name: RECEIVERS.heartbeat },
    ],
  };
}

export interface SlackSecretShape {
  name: string;
  namespace: string;
  /** Secret keys; the Operator mounts each as /etc/alertmanager/secrets/<name>/<key>. */
  criticalKey: string;
  alertsKey: string;
}

/** Where the Prometheus Operator mounts a Secret listed in the Alertmanager CR's spec.secrets. */
export function operatorSecretPath(secretName: string, key: string): string {
  return `/etc/alertmanager/secrets/${secretName}/${key}`;
}

/** The Secret's shape with placeholders: the real webhook URLs are supplied at deploy time, never committed. */
export function slackSecretManifest(s: SlackSecretShape): object {
  const placeholder = (channel: string) => `REPLACE-WITH-THE-SLACK-INCOMING-WEBHOOK-URL-FOR-${channel}`;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: s.name, namespace: s.namespace, labels: { 'app.kubernetes.io/part-of': 'myhero-ops' } },
    type: 'Opaque',
    stringData: { [s.criticalKey]: placeholder('CRITICAL-CHANNEL'), [s.alertsKey]: placeholder('ALERTS-CHANNEL') },
  };
}
