import { resolveSettings, setting, type Resolved } from './config.ts';
import { K8S } from './defaults.ts';
import { number, string, type Parser } from './parse.ts';
import type { Matchers } from './promql.ts';

// The one monitoring config, kubernetes-mixin's `_config`: where the series
// are (job names, namespace, which workloads are myhero's), the thresholds that
// are a matter of taste, and where the runbooks are published. The alert rules
// and the dashboards are both built from it; the `monitoring` section of the
// config file (or the flags below, on `alerts` and `dashboards` commands alike)
// changes both at once.

export interface Jobs {
  app: string;
  data: string;
  ernst: string;
  /** The ARM temperature exporter DaemonSet. */
  exporter: string;
  /** node-exporter: its series carry `instance` like the ARM exporter's, so a job matcher keeps a second node-exporter job apart. */
  nodeExporter: string;
  kubeStateMetrics: string;
}

export interface Selectors {
  /** Namespace myhero runs in; '' matches every namespace (e.g. the lab, whose targets carry none). */
  namespace: string;
  /** `job` label of each scrape target (with the Prometheus Operator: the Service name, or the ServiceMonitor's jobLabel). */
  jobs: Jobs;
  /** The app's Deployment, whose available replicas tell whether any app pod passes its readiness probe. */
  appDeployment: string;
  /** Regex for myhero's Deployment, HPA and pod names, so other workloads in the namespace stay out. */
  workloadPattern: string;
}

/** Thresholds that are a matter of taste for a cluster; the Pi's thermal limits are firmware facts (lib/defaults.ts PI_THERMAL). */
export interface Thresholds {
  /** Share of app requests answered 5xx or `vote submission failed`. */
  errorRatio: number;
  /** p99 latency of the app, seconds. */
  appLatencyP99Seconds: number;
  /** p99 latency of data's vote route in direct mode, seconds. */
  dataLatencyP99Seconds: number;
  /** Share of accepted votes neither recorded nor waiting in the queue. */
  lostVoteRatio: number;
}

export interface MonitoringConfig {
  selectors: Selectors;
  thresholds: Thresholds;
  /** Where alerts/runbooks/<Alert>.md is published: alert runbook_url annotations and dashboard links point there. */
  runbookBaseUrl: string;
  /**
   * The `release` label kube-prometheus-stack selects ServiceMonitors and
   * PrometheusRules by (its Helm release name); '' = none.
   */
  release: string;
}

/** The runbooks' path in the repository: right there, but not a link Slack or Grafana can open. */
const DEFAULT_RUNBOOK_BASE_URL = 'alerts/runbooks';

const DEFAULT_SELECTORS: Selectors = {
  namespace: K8S.defaultNamespace,
  jobs: {
    app: 'myhero-app',
    data: 'myhero-data',
    ernst: 'myhero-ernst',
    exporter: 'arm-exporter',
    nodeExporter: 'node-exporter',
    kubeStateMetrics: 'kube-state-metrics',
  },
  appDeployment: K8S.appDeployment,
  workloadPattern: 'myhero-.*',
};

export const DEFAULT_THRESHOLDS: Thresholds = {
  errorRatio: 0.05,
  appLatencyP99Seconds: 1,
  dataLatencyP99Seconds: 0.5,
  lostVoteRatio: 0.01,
};

/** kube-prometheus-stack's default Helm release name, which its Prometheus selects `release=` by. */
export const DEFAULT_RELEASE = 'kube-prometheus-stack';

/** Section of the config file the monitoring settings live in. */
const MONITORING_SECTION = 'monitoring';

const ratio: Parser<number> = number(0.0001, 0.5);
const seconds: Parser<number> = number(0.001, 59);

const s = DEFAULT_SELECTORS;
const d = DEFAULT_THRESHOLDS;
const shared = { section: MONITORING_SECTION } as const;

/** The monitoring settings, on every command that builds alerts or dashboards. */
export const monitoringSpec = {
  namespace: setting({ flag: '--namespace <ns>', describe: "namespace myhero runs in ('' = any)", default: s.namespace, parse: string, env: ['MYHERO_NAMESPACE'], ...shared }),
  appJob: setting({ flag: '--app-job <job>', describe: 'job label of the myhero-app targets', default: s.jobs.app, parse: string, ...shared }),
  dataJob: setting({ flag: '--data-job <job>', describe: 'job label of the myhero-data targets', default: s.jobs.data, parse: string, ...shared }),
  ernstJob: setting({ flag: '--ernst-job <job>', describe: 'job label of the myhero-ernst targets', default: s.jobs.ernst, parse: string, ...shared }),
  exporterJob: setting({ flag: '--exporter-job <job>', describe: 'job label of the ARM temperature exporter', default: s.jobs.exporter, parse: string, ...shared }),
  nodeExporterJob: setting({ flag: '--node-exporter-job <job>', describe: 'job label of node-exporter', default: s.jobs.nodeExporter, parse: string, ...shared }),
  ksmJob: setting({ flag: '--ksm-job <job>', describe: 'job label of kube-state-metrics', default: s.jobs.kubeStateMetrics, parse: string, ...shared }),
  appDeployment: setting({ flag: '--app-deployment <name>', describe: 'Deployment of myhero-app', default: s.appDeployment, parse: string, ...shared }),
  workloadPattern: setting({ flag: '--workload-pattern <regex>', describe: "regex of myhero's Deployment, HPA and pod names", default: s.workloadPattern, parse: string, ...shared }),
  errorRatio: setting({ flag: '--error-ratio <r>', describe: 'error budget (MyheroErrorRatioHigh, error-ratio panels), a share of requests', default: d.errorRatio, parse: ratio, ...shared }),
  appLatencyP99: setting({ flag: '--app-latency-p99 <s>', describe: 'app p99 latency budget (MyheroLatencyP99High, latency panels), seconds', default: d.appLatencyP99Seconds, parse: seconds, ...shared }),
  dataLatencyP99: setting({ flag: '--data-latency-p99 <s>', describe: 'MyheroDataSaturated threshold, seconds', default: d.dataLatencyP99Seconds, parse: seconds, ...shared }),
  lostVoteRatio: setting({ flag: '--lost-vote-ratio <r>', describe: 'MyheroVotesLost threshold, a share of accepted votes', default: d.lostVoteRatio, parse: ratio, ...shared }),
  runbookBaseUrl: setting({
    flag: '--runbook-base-url <url>',
    describe: 'where alerts/runbooks/<Alert>.md is published (e.g. https://github.com/ORG/REPO/blob/main/alerts/runbooks): alert runbook_url and dashboard links',
    default: DEFAULT_RUNBOOK_BASE_URL,
    parse: string,
    ...shared,
  }),
  release: setting({
    flag: '--release <name>',
    describe: "the release label kube-prometheus-stack's Prometheus selects ServiceMonitors and PrometheusRules by ('' = none)",
    default: DEFAULT_RELEASE,
    parse: string,
    ...shared,
  }),
};

export type MonitoringSettings = Resolved<typeof monitoringSpec>;

export function monitoringFromSettings(v: MonitoringSettings): MonitoringConfig {
  return {
    selectors: {
      namespace: v.namespace,
      jobs: { app: v.appJob, data: v.dataJob, ernst: v.ernstJob, exporter: v.exporterJob, nodeExporter: v.nodeExporterJob, kubeStateMetrics: v.ksmJob },
      appDeployment: v.appDeployment,
      workloadPattern: v.workloadPattern,
    },
    thresholds: {
      errorRatio: v.errorRatio,
      appLatencyP99Seconds: v.appLatencyP99,
      dataLatencyP99Seconds: v.dataLatencyP99,
      lostVoteRatio: v.lostVoteRatio,
    },
    runbookBaseUrl: v.runbookBaseUrl,
    release: v.release,
  };
}

/** Just the monitoring config of a larger one (the alerts' config extends it). */
export const monitoringOf = ({ selectors, thresholds, runbookBaseUrl, release }: MonitoringConfig): MonitoringConfig => ({ selectors, thresholds, runbookBaseUrl, release });

/** The config with no file, env or flags, and optional setting overrides (tests, library use). */
export function defaultMonitoring(overrides: Partial<MonitoringSettings> = {}): MonitoringConfig {
  return monitoringFromSettings({ ...resolveSettings(monitoringSpec, { env: {} }), ...overrides });
}

// ---------------------------------------------------------------- selectors

/** The namespace matcher: none when the config says any namespace. */
const namespaceMatcher = (s: Selectors): string | undefined => s.namespace || undefined;

/** One of myhero's own scrape jobs, in the configured namespace. */
export function jobMatchers(s: Selectors, job: 'app' | 'data' | 'ernst'): Matchers {
  return { job: s.jobs[job], namespace: namespaceMatcher(s) };
}

/** `node_uname_info{machine}` values of ARM boards (Raspberry Pi OS 64-bit, 32-bit; Pi Zero/1). */
export const ARM_MACHINES = ['aarch64', 'armv7l', 'armv6l'] as const;

/** The ARM exporter: it runs in the monitoring stack's namespace, not myhero's, so only its job counts. */
export const exporterMatchers = (s: Selectors): Matchers => ({ job: s.jobs.exporter });

/** node-exporter, by its job alone (it too runs in the monitoring namespace). */
export const nodeExporterMatchers = (s: Selectors): Matchers => ({ job: s.jobs.nodeExporter });

/** The kube-state-metrics label naming a Deployment, an HPA or a pod. */
export type ObjectLabel = 'deployment' | 'horizontalpodautoscaler' | 'pod';

/** myhero's Deployments, HPAs or pods by name, so other workloads in the namespace stay out. */
export const workloadMatchers = (s: Selectors, objectLabel: ObjectLabel): Matchers => ({ [objectLabel]: { re: s.workloadPattern } });

/**
 * kube-state-metrics series about myhero objects in the namespace (ksm's
 * ServiceMonitor honours labels, so `namespace` is the object's).
 */
export function ksmMatchers(s: Selectors, objectLabel?: ObjectLabel): Matchers {
  return { job: s.jobs.kubeStateMetrics, namespace: namespaceMatcher(s), ...(objectLabel ? workloadMatchers(s, objectLabel) : {}) };
}

// ---------------------------------------------------------------- what a build says

/** True for a runbook base a browser opens from Slack or Grafana. */
const isWebUrl = (base: string): boolean => /^https?:\/\/[^/]/.test(base);

/** The effective selectors, thresholds and runbook base, as `alerts build` and `dashboards build` print them. */
export function describeMonitoring(cfg: MonitoringConfig, uses?: string): string {
  const { selectors: sel, thresholds: t } = cfg;
  const j = sel.jobs;
  const lines = [
    'monitoring config (alerts and dashboards):',
    `  namespace        ${sel.namespace ? sel.namespace : "'' (any)"}`,
    `  jobs             app=${j.app} data=${j.data} ernst=${j.ernst} exporter=${j.exporter} node-exporter=${j.nodeExporter} kube-state-metrics=${j.kubeStateMetrics}`,
    `  workloads        ${sel.workloadPattern} (app Deployment ${sel.appDeployment})`,
    `  thresholds       error ratio ${t.errorRatio}, app p99 ${t.appLatencyP99Seconds} s, data p99 ${t.dataLatencyP99Seconds} s, lost votes ${t.lostVoteRatio}`,
    `  runbooks         ${cfg.runbookBaseUrl}`,
    `  release label    ${cfg.release || '(none)'}`,
    ...(uses ? [`  used here        ${uses}`] : []),
  ];
  if (!isWebUrl(cfg.runbookBaseUrl)) {
    lines.push(`note: the runbook base "${cfg.runbookBaseUrl}" is not a web URL, so links from Slack and Grafana will not open; set monitoring.runbookBaseUrl or --runbook-base-url to https://…`);
  }
  return lines.join('\n');
}
