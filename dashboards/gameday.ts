import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { KSM, LABELS, LOADTEST, PROMETHEUS, RPI, TWIN } from '../lib/catalog.ts';
import { CHAOS_ANNOTATION_TAG, K8S, PI_THERMAL } from '../lib/defaults.ts';
import {
  JOB,
  NAMESPACE,
  availablePerTier,
  desiredPerTier,
  hpaReplicas,
  ksm,
  loadtest,
  loadtestErrorRatio,
  loadtestQuantile,
  queueBacklog,
  readyNodes,
  twinErrorRatio,
  twinQuantile,
  votesPerSecond,
} from './exprs.ts';
import { workloadMatchers, type MonitoringConfig } from '../lib/monitoring.ts';
import { runbook } from './links.ts';
import { increase, rate, sel, sumBy, type Matchers } from './promql.ts';
import {
  VOTES,
  VOTES_PER_SECOND,
  namespaceVariable,
  newDashboard,
  type DashboardHead,
  promAnnotation,
  q,
  queryVariable,
  row,
  stat,
  steps,
  errorRatioBudget,
  latencyBudget,
  tagAnnotation,
  thermalSteps,
  timeseries,
  units,
} from './toolkit.ts';

// Game day: one page to watch a chaos run. Service health (errors, latency,
// votes) over replicas, HPA and node state, and the boards' temperatures, with
// every chaos action and every firing alert drawn across all panels.

/** The app's routes that are user traffic (not probes or scrapes). */
const APP_USER_TRAFFIC = { [LABELS.service]: 'app', [LABELS.route]: { notRe: '/health|/metrics' } } as const satisfies Matchers;

export function gamedayDashboard(opts: MonitoringConfig, head: DashboardHead): dashboard.DashboardBuilder {
  const b = newDashboard(head, {
    description: `A chaos game day on one page: error rate, latency and votes, ready replicas per tier, HPA replicas, node readiness and Pi temperatures, with chaos actions (Grafana annotations tagged "${CHAOS_ANNOTATION_TAG}") and firing alerts drawn on every panel.`,
    tags: ['chaos', 'gameday'],
    variables: [
      namespaceVariable(KSM.deploymentSpecReplicas),
      queryVariable({
        name: 'job',
        label: 'Twin jobs',
        description: "Scrape jobs of the twin's services, where the twin runs: they filter the twin's error, latency and targets-up panels; the vote pipeline panels always span all of them.",
        query: `label_values(${TWIN.httpRequests}, job)`,
      }),
      queryVariable({
        name: 'loadtest_job',
        label: 'Load runner job',
        description: 'Scrape job(s) of a load test running during the game day.',
        query: `label_values(${LOADTEST.requests}, job)`,
      }),
    ],
    from: 'now-30m',
  });
  b.annotation(tagAnnotation('Chaos actions', [CHAOS_ANNOTATION_TAG], 'red'));
  b.annotation(
    promAnnotation({
      name: 'Firing alerts',
      expr: sel(PROMETHEUS.alerts, { alertstate: 'firing', ...NAMESPACE }),
      title: '{{alertname}}',
      text: '{{severity}} {{namespace}} {{instance}}',
      tagKeys: ['alertname', 'severity'],
      color: 'orange',
    }),
  );

  b.withRow(row('Service'));
  b.withPanel(
    timeseries({
      title: 'Error ratio',
      description:
        'Share of failed requests: as the app answers them (5xx, twin metrics) and as the load runner sees them (any failure class, including refused connections while no pod is Ready). The budget lines are the alert thresholds.',
      unit: units.PercentUnit,
      queries: [q(twinErrorRatio([], APP_USER_TRAFFIC), 'app (server side)'), q(loadtestErrorRatio(), 'load runner (client side)')],
      ...errorRatioBudget(opts.thresholds),
      links: [runbook(opts, 'MyheroErrorRatioHigh')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'p99 latency',
      description: '99th percentile latency of app requests (server side) and of the load runner requests (client side, includes connection waits).',
      unit: units.Seconds,
      queries: [q(twinQuantile(0.99, [], APP_USER_TRAFFIC), 'app (server side)'), q(loadtestQuantile(0.99), 'load runner (client side)')],
      ...latencyBudget(opts.thresholds),
      links: [runbook(opts, 'MyheroLatencyP99High')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Votes per second',
      description: 'Votes accepted by the app and recorded by data (twin), and accepted as counted by the load runner. Recorded falling behind accepted in queue mode is the queue absorbing the outage.',
      unit: VOTES_PER_SECOND,
      queries: [
        q(votesPerSecond(TWIN.votesAccepted), 'accepted (app)'),
        q(votesPerSecond(TWIN.votesRecorded), 'recorded (data)'),
        q(sumBy([], rate(loadtest(LOADTEST.votesAccepted))), 'accepted (load runner)'),
      ],
      min: 0,
      links: [runbook(opts, 'MyheroVotesLost')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Queue backlog',
      description: 'Votes waiting in the queue (published − processed): it grows while data or ernst is down and must drain back to 0 afterwards.',
      unit: VOTES,
      queries: [q(queueBacklog(), 'backlog')],
      min: 0,
      links: [runbook(opts, 'MyheroQueueBacklogGrowing')],
    }),
  );

  b.withRow(row('Kubernetes and boards'));
  b.withPanel(
    timeseries({
      title: 'Available replicas per tier',
      description: 'Replicas passing readiness per myhero tier against what each Deployment wants: dips are the kills and their recovery time.',
      unit: units.Short,
      queries: [q(availablePerTier(opts.selectors), '{{tier}} available'), q(desiredPerTier(opts.selectors), '{{tier}} desired')],
      min: 0,
      decimals: 0,
      links: [runbook(opts, 'MyheroPodNotReady'), runbook(opts, 'MyheroDeploymentReplicasMismatch')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'HPA replicas',
      description: `Current and desired replicas of the HPAs (${K8S.appDeployment} in the hardening overlay) against their max: scale-out under load, then scale-in after the stabilisation window.`,
      unit: units.Short,
      queries: [
        q(hpaReplicas(opts.selectors, KSM.hpaCurrentReplicas), '{{horizontalpodautoscaler}} current'),
        q(hpaReplicas(opts.selectors, KSM.hpaDesiredReplicas), '{{horizontalpodautoscaler}} desired'),
        q(hpaReplicas(opts.selectors, KSM.hpaMaxReplicas), '{{horizontalpodautoscaler}} max'),
      ],
      min: 0,
      decimals: 0,
      links: [runbook(opts, 'MyheroHpaMaxedOut')],
    }),
  );
  b.withPanel(
    stat({
      title: 'Nodes Ready',
      description: 'Nodes whose Ready condition is true now: a node-kill experiment takes one away until its kubelet returns.',
      unit: units.Short,
      queries: [q(`sum(${readyNodes(opts.selectors)})`, 'ready', true)],
      thresholds: steps('red', [1, 'green']),
      sparkline: true,
      width: 6,
      links: [runbook(opts, 'MyheroNodeNotReady')],
    }),
  );
  b.withPanel(
    stat({
      title: 'Twin targets up',
      description: 'Twin services Prometheus can scrape now, out of those it knows: a killed service drops out here first.',
      unit: units.Short,
      queries: [q(`sum(${sel(PROMETHEUS.up, { ...JOB, ...NAMESPACE })})`, 'up', true)],
      sparkline: true,
      width: 6,
      links: [runbook(opts, 'MyheroAppDown')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Hottest Pi',
      description: `The highest CPU temperature among the boards, with the Pi thermal bands (${PI_THERMAL.softLimit}/${PI_THERMAL.warning}/${PI_THERMAL.throttle} °C): load moved onto fewer nodes heats them.`,
      unit: units.Celsius,
      queries: [q(`max(${RPI.cpuTemperature})`, 'hottest CPU')],
      thresholds: thermalSteps(),
      thresholdStyle: 'bands',
      min: 30,
      max: PI_THERMAL.hardLimit + 5,
      width: 12,
      links: [runbook(opts, 'PiCpuTemperatureHigh')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Container restarts',
      description: 'Container restarts of myhero pods per 5 minutes: kills show as replacements (new pods), crash loops as restarts.',
      unit: units.Short,
      queries: [q(sumBy(['pod'], increase(ksm(opts.selectors, KSM.containerRestarts, workloadMatchers(opts.selectors, 'pod')), '5m')), '{{pod}}')],
      min: 0,
      decimals: 0,
      width: 12,
      links: [runbook(opts, 'MyheroPodCrashLooping')],
    }),
  );

  return b;
}
