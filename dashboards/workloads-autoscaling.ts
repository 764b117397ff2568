import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { KSM } from '../lib/catalog.ts';
import { availablePerTier, desiredPerTier, hpaReplicas, ksm, readyNodes, readyPodsPerTier, tierOfPod } from './exprs.ts';
import { workloadMatchers, type MonitoringConfig } from '../lib/monitoring.ts';
import { runbook } from './links.ts';
import { increase, sumBy } from './promql.ts';
import {
  namespaceVariable,
  newDashboard,
  type DashboardHead,
  q,
  row,
  stat,
  stateTimeline,
  steps,
  timeseries,
  units,
  valueMappings,
} from './toolkit.ts';

// Workloads and autoscaling: what the HorizontalPodAutoscaler decides, whether
// each tier has the Ready pods it wants, restarts and churn, and node readiness,
// all from kube-state-metrics.

/** A pod younger than this counts as churn: it replaced a killed, evicted or rescheduled one, or scaled out. */
const YOUNG_POD_SECONDS = 300;

export function workloadsDashboard(opts: MonitoringConfig, head: DashboardHead): dashboard.DashboardBuilder {
  const s = opts.selectors;
  const pods = workloadMatchers(s, 'pod');
  const b = newDashboard(head, {
    description:
      'myhero on Kubernetes: HPA current/desired/min/max replicas, Ready pods against desired per tier, restarts, pod churn and node readiness (kube-state-metrics).',
    tags: ['kubernetes', 'hpa'],
    variables: [namespaceVariable(KSM.deploymentSpecReplicas)],
  });

  b.withRow(row('Autoscaling'));
  b.withPanel(
    timeseries({
      title: 'HPA replicas',
      description:
        'Per HorizontalPodAutoscaler: current and desired replicas between its min and max. Desired ≠ current for long = the Deployment cannot scale (quota, scheduling); current = max = no headroom left.',
      unit: units.Short,
      queries: [
        q(hpaReplicas(s, KSM.hpaCurrentReplicas), '{{horizontalpodautoscaler}} current'),
        q(hpaReplicas(s, KSM.hpaDesiredReplicas), '{{horizontalpodautoscaler}} desired'),
        q(hpaReplicas(s, KSM.hpaMinReplicas), '{{horizontalpodautoscaler}} min'),
        q(hpaReplicas(s, KSM.hpaMaxReplicas), '{{horizontalpodautoscaler}} max'),
      ],
      min: 0,
      decimals: 0,
      width: 16,
      links: [runbook(opts, 'MyheroHpaMaxedOut'), runbook(opts, 'MyheroHpaReplicasMismatch')],
    }),
  );
  b.withPanel(
    stat({
      title: 'HPA headroom used',
      description: 'Current replicas as a share of the HPA maximum: 100 % means the autoscaler cannot add another pod.',
      unit: units.PercentUnit,
      queries: [
        q(`${hpaReplicas(s, KSM.hpaCurrentReplicas)} / ${hpaReplicas(s, KSM.hpaMaxReplicas)}`, '{{horizontalpodautoscaler}}', true),
      ],
      thresholds: steps('green', [0.8, 'orange'], [1, 'red']),
      text: 'value_and_name',
      width: 8,
      links: [runbook(opts, 'MyheroHpaMaxedOut')],
    }),
  );

  b.withRow(row('Pods per tier'));
  b.withPanel(
    timeseries({
      title: 'Ready pods vs desired per tier',
      description:
        'Pods passing their readiness probe per myhero tier against the replicas its Deployment wants. A gap is pods starting, crash-looping or unschedulable; traffic only reaches the Ready ones.',
      unit: units.Short,
      queries: [q(readyPodsPerTier(s), '{{tier}} ready'), q(desiredPerTier(s), '{{tier}} desired')],
      min: 0,
      decimals: 0,
      width: 16,
      links: [runbook(opts, 'MyheroPodNotReady'), runbook(opts, 'MyheroDeploymentReplicasMismatch')],
    }),
  );
  b.withPanel(
    stat({
      title: 'Replicas missing',
      description: 'Desired minus available replicas per tier right now: 0 everywhere means every tier is whole.',
      unit: units.Short,
      queries: [q(`${desiredPerTier(s)} - ${availablePerTier(s)}`, '{{tier}}', true)],
      thresholds: steps('green', [1, 'red']),
      text: 'value_and_name',
      background: true,
      width: 8,
      links: [runbook(opts, 'MyheroDeploymentReplicasMismatch')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Container restarts',
      description: 'Container restarts per pod in the last 5 minutes: steady restarts mean a crash loop (failing liveness probe, OOM kill at the 48M limit).',
      unit: units.Short,
      queries: [
        q(sumBy(['pod'], increase(ksm(s, KSM.containerRestarts, pods), '5m')), '{{pod}}'),
      ],
      min: 0,
      links: [runbook(opts, 'MyheroPodCrashLooping')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Pods waiting, by reason',
      description: 'Containers not running and why (CrashLoopBackOff, ImagePullBackOff, ContainerCreating ...).',
      unit: units.Short,
      queries: [q(sumBy(['reason'], ksm(s, KSM.containerWaitingReason, pods)), '{{reason}}')],
      min: 0,
      decimals: 0,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Pod churn: pods younger than 5 minutes',
      description: `Pods per tier created in the last ${YOUNG_POD_SECONDS / 60} minutes: replacements after kills, evictions and node loss, and HPA scale-outs. A flat 0 is a stable workload.`,
      unit: units.Short,
      queries: [
        q(
          sumBy(['tier'], tierOfPod(`(time() - ${ksm(s, KSM.podCreated, pods)}) < bool ${YOUNG_POD_SECONDS}`)),
          '{{tier}}',
        ),
      ],
      min: 0,
      decimals: 0,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'myhero pods per node',
      description: 'Where the myhero pods run: pods move off a drained or lost node and pile up on the others.',
      unit: units.Short,
      queries: [q(`count by (node) (${ksm(s, KSM.podInfo, pods)})`, '{{node}}')],
      min: 0,
      decimals: 0,
      stack: true,
    }),
  );

  b.withRow(row('Nodes'));
  b.withPanel(
    stateTimeline({
      title: 'Node readiness',
      description: 'Each node\'s Ready condition. NotReady: the kubelet stopped reporting (node lost, k3s-agent stopped, network).',
      unit: units.NoUnit,
      queries: [q(`max by (node) (${readyNodes(s)})`, '{{node}}')],
      mappings: valueMappings({ 0: ['NotReady', 'red'], 1: ['Ready', 'green'] }),
      thresholds: steps('red', [1, 'green']),
      width: 16,
      links: [runbook(opts, 'MyheroNodeNotReady')],
    }),
  );
  b.withPanel(
    stat({
      title: 'Nodes Ready',
      description: 'Nodes whose Ready condition is true, out of all nodes the cluster reports.',
      unit: units.Short,
      queries: [
        q(`sum(${readyNodes(s)})`, 'ready', true),
        q(`count(${readyNodes(s)})`, 'nodes', true),
      ],
      text: 'value_and_name',
      width: 8,
      links: [runbook(opts, 'MyheroNodeNotReady')],
    }),
  );

  return b;
}
