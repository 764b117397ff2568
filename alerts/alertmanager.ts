import { FAMILY_LABEL, LOCATING_LABELS, type Duration } from './rule.ts';
import { WATCHDOG } from './rules/meta.ts';

// Who hears what, how often, and what a critical silences — decided once as a
// routing model, then written two ways: alertmanager.yml for a plain
// Alertmanager (or the Operator's whole config Secret), and an
// AlertmanagerConfig object that the Prometheus Operator merges into the
// stack's own config. Webhook URLs never appear in either: the file reads them
// from files (slack_configs.api_url_file, Alertmanager ≥ 0.22), the object from
// a Secret key.

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
  /** Alert names (regexes) that go to the null receiver: the stack's known misfires on k3s. */
  nullAlerts: readonly string[];
  /** Where the Slack/email templates are: relative to alertmanager.yml, or absolute (the Operator's /etc/alertmanager/config). */
  templateGlob: string;
}

export const RECEIVERS = {
  critical: 'slack-critical',
  alerts: 'slack-alerts',
  email: 'email-critical',
  /** Receives the Watchdog; no integration by default (point a dead man's switch at it to watch the pipeline). */
  heartbeat: 'heartbeat',
  /** Alerts known to be noise on this kind of cluster: received by no one. */
  null: 'null',
} as const;

export const DEFAULT_TIMING: Timing = {
  groupWait: '30s',
  groupInterval: '5m',
  repeatInterval: '4h',
  criticalRepeatInterval: '1h',
  resolveTimeout: '5m',
};

/**
 * kube-prometheus alerts that misfire on k3s, which runs the scheduler, controller
 * manager, proxy and (on a server) etcd inside one process that the stack's
 * ServiceMonitors do not find; and InfoInhibitor, which exists only to inhibit.
 */
export const K3S_NULL_ALERTS = ['KubeSchedulerDown', 'KubeControllerManagerDown', 'KubeProxyDown', 'etcd.*', 'InfoInhibitor'] as const;

/**
 * Notifications are grouped per alert, namespace and instance: a Pi's warning
 * that was inhibited all along then shares no group with another Pi's, so its
 * resolution is never the first Slack line anyone sees about it.
 */
export const GROUP_BY = ['alertname', 'namespace', 'instance'] as const;

// ---------------------------------------------------------------- the model

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface RouteModel {
  receiver: string;
  matchers: LabelMatcher[];
  continue?: boolean;
  repeatInterval?: Duration;
}

export interface SlackReceiver {
  channel: string;
  /** Which webhook: the file path (alertmanager.yml) or the Secret key (AlertmanagerConfig) of this channel. */
  hook: 'critical' | 'alerts';
}

export interface ReceiverModel {
  name: string;
  slack?: SlackReceiver;
  email?: EmailSettings;
}

export interface RoutingModel {
  receiver: string;
  groupBy: readonly string[];
  timing: Timing;
  routes: RouteModel[];
  receivers: ReceiverModel[];
  inhibit: { source: LabelMatcher[]; target: LabelMatcher[]; equal: string[] }[];
}

const eq = (name: string, value: string): LabelMatcher => ({ name, op: '=', value });
const re = (name: string, value: string): LabelMatcher => ({ name, op: '=~', value });

/** The routing tree, receivers and inhibit rules, whatever they are written as. */
export function routingModel(am: Omit<AlertmanagerSettings, 'templateGlob'>): RoutingModel {
  const critical = eq('severity', 'critical');
  const email = am.email;
  const family = re(FAMILY_LABEL, '.+');
  return {
    receiver: RECEIVERS.alerts,
    groupBy: GROUP_BY,
    timing: am.timing,
    routes: [
      ...(am.nullAlerts.length ? [{ receiver: RECEIVERS.null, matchers: [re('alertname', am.nullAlerts.join('|'))] }] : []),
      { receiver: RECEIVERS.heartbeat, matchers: [eq('alertname', WATCHDOG)], repeatInterval: '5m' },
      { receiver: RECEIVERS.critical, matchers: [critical], repeatInterval: am.timing.criticalRepeatInterval, ...(email ? { continue: true } : {}) },
      ...(email ? [{ receiver: RECEIVERS.email, matchers: [critical], repeatInterval: am.timing.criticalRepeatInterval }] : []),
      // Warnings, and anything without a known severity, fall through to the root receiver: nothing is dropped.
      { receiver: RECEIVERS.alerts, matchers: [eq('severity', 'warning')] },
    ],
    receivers: [
      { name: RECEIVERS.critical, slack: { channel: am.slack.criticalChannel, hook: 'critical' } },
      { name: RECEIVERS.alerts, slack: { channel: am.slack.alertsChannel, hook: 'alerts' } },
      ...(email ? [{ name: RECEIVERS.email, email }] : []),
      { name: RECEIVERS.heartbeat },
      ...(am.nullAlerts.length ? [{ name: RECEIVERS.null }] : []),
    ],
    inhibit: [
      {
        // A critical silences the warning of its own family on the same target
        // (e.g. PiCpuTemperatureCritical → PiCpuTemperatureHigh on that Pi). Both
        // sides must carry a family: labels missing on both sides count as equal,
        // so without the guard any critical would silence every unrelated warning.
        source: [critical, family],
        target: [eq('severity', 'warning'), family],
        equal: [FAMILY_LABEL, ...LOCATING_LABELS],
      },
    ],
  };
}

/** What each Slack message says: named templates of templates/myhero.tmpl. */
export const SLACK_TEMPLATES = {
  title: 'myhero.slack.title',
  text: 'myhero.slack.text',
  color: 'myhero.slack.color',
  fallback: 'myhero.slack.title',
} as const;
export const EMAIL_SUBJECT_TEMPLATE = 'myhero.email.subject';

const call = (name: string) => `{{ template "${name}" . }}`;

// ---------------------------------------------------------------- alertmanager.yml

const matcherText = (m: LabelMatcher) => `${m.name}${m.op}${JSON.stringify(m.value)}`;

/** alertmanager.yml as data. */
export function alertmanagerConfig(am: AlertmanagerSettings) {
  const model = routingModel(am);
  const t = am.timing;
  const email = am.email;
  const urlFile = { critical: am.slack.criticalUrlFile, alerts: am.slack.alertsUrlFile };
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
      receiver: model.receiver,
      group_by: [...model.groupBy],
      group_wait: t.groupWait,
      group_interval: t.groupInterval,
      repeat_interval: t.repeatInterval,
      routes: model.routes.map((r) => ({
        receiver: r.receiver,
        matchers: r.matchers.map(matcherText),
        ...(r.repeatInterval ? { repeat_interval: r.repeatInterval } : {}),
        ...(r.continue ? { continue: true } : {}),
      })),
    },
    inhibit_rules: model.inhibit.map((i) => ({ source_matchers: i.source.map(matcherText), target_matchers: i.target.map(matcherText), equal: i.equal })),
    receivers: model.receivers.map((r) => ({
      name: r.name,
      ...(r.slack
        ? {
            slack_configs: [
              {
                api_url_file: urlFile[r.slack.hook],
                channel: r.slack.channel,
                send_resolved: true,
                title: call(SLACK_TEMPLATES.title),
                text: call(SLACK_TEMPLATES.text),
                color: call(SLACK_TEMPLATES.color),
                fallback: call(SLACK_TEMPLATES.fallback),
              },
            ],
          }
        : {}),
      ...(r.email ? { email_configs: [{ to: r.email.to, send_resolved: true, headers: { Subject: call(EMAIL_SUBJECT_TEMPLATE) } }] } : {}),
    })),
  };
}

// ---------------------------------------------------------------- AlertmanagerConfig (Prometheus Operator)

export interface AlertmanagerConfigMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** The Secret (in the same namespace) holding the webhook URLs, and its keys. */
  slackSecret: { name: string; criticalKey: string; alertsKey: string };
  /** The Secret holding the SMTP password, key `password`. */
  smtpSecret: string;
  /**
   * Template text by name, inlined into each field: an AlertmanagerConfig cannot
   * add template files to the stack's Alertmanager.
   */
  template: (name: string) => string;
}

const crdMatcher = (m: LabelMatcher) => ({ name: m.name, value: m.value, matchType: m.op });

/**
 * The routes and receivers as a namespaced AlertmanagerConfig: the Operator
 * merges it into the stack's config under a route that matches its namespace.
 */
export function alertmanagerConfigResource(am: Omit<AlertmanagerSettings, 'templateGlob'>, meta: AlertmanagerConfigMeta) {
  const model = routingModel(am);
  const t = am.timing;
  const key = { critical: meta.slackSecret.criticalKey, alerts: meta.slackSecret.alertsKey };
  return {
    apiVersion: 'monitoring.coreos.com/v1alpha1',
    kind: 'AlertmanagerConfig',
    metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels },
    spec: {
      route: {
        receiver: model.receiver,
        groupBy: [...model.groupBy],
        groupWait: t.groupWait,
        groupInterval: t.groupInterval,
        repeatInterval: t.repeatInterval,
        routes: model.routes.map((r) => ({
          receiver: r.receiver,
          matchers: r.matchers.map(crdMatcher),
          ...(r.repeatInterval ? { repeatInterval: r.repeatInterval } : {}),
          ...(r.continue ? { continue: true } : {}),
        })),
      },
      inhibitRules: model.inhibit.map((i) => ({ sourceMatch: i.source.map(crdMatcher), targetMatch: i.target.map(crdMatcher), equal: i.equal })),
      receivers: model.receivers.map((r) => ({
        name: r.name,
        ...(r.slack
          ? {
              slackConfigs: [
                {
                  apiURL: { name: meta.slackSecret.name, key: key[r.slack.hook] },
                  channel: r.slack.channel,
                  sendResolved: true,
                  title: meta.template(SLACK_TEMPLATES.title),
                  text: meta.template(SLACK_TEMPLATES.text),
                  color: meta.template(SLACK_TEMPLATES.color),
                  fallback: meta.template(SLACK_TEMPLATES.fallback),
                },
              ],
            }
          : {}),
        ...(r.email
          ? {
              emailConfigs: [
                {
                  to: r.email.to,
                  from: r.email.from,
                  smarthost: r.email.smarthost,
                  requireTLS: r.email.requireTls,
                  ...(r.email.authUsername ? { authUsername: r.email.authUsername, authPassword: { name: meta.smtpSecret, key: 'password' } } : {}),
                  sendResolved: true,
                  headers: [{ key: 'Subject', value: meta.template(EMAIL_SUBJECT_TEMPLATE) }],
                },
              ],
            }
          : {}),
      })),
    },
  };
}

// ---------------------------------------------------------------- Secrets

export interface SlackSecretShape {
  name: string;
  namespace: string;
  /** Secret keys: the AlertmanagerConfig refers to them; the Operator mounts each as /etc/alertmanager/secrets/<name>/<key>. */
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
