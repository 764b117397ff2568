import { KSM } from '../../lib/catalog.ts';
import type { RuleContext, RuleGroup } from '../rule.ts';
import { ksmMatchers } from '../../lib/monitoring.ts';
import { sel } from '../../lib/promql.ts';

// Kubernetes objects that carry myhero, from kube-state-metrics. Evaluated
// every minute: ksm itself refreshes objects on watch events and is scraped
// every 30 s or more, and these alerts wait 5 to 15 minutes anyway.

export function kubernetesRules(ctx: RuleContext): RuleGroup {
  const s = ctx.selectors;
  const hpa = ksmMatchers(s, 'horizontalpodautoscaler');
  const deployment = ksmMatchers(s, 'deployment');
  const pod = ksmMatchers(s, 'pod');
  // Nodes carry no namespace of their own, so only ksm's job selects them.
  const node = { job: s.jobs.kubeStateMetrics, condition: 'Ready', status: 'true' };
  return {
    name: 'myhero-ops.kubernetes',
    interval: '1m',
    alerts: [
      {
        name: 'MyheroHpaMaxedOut',
        expr: [
          `${sel(KSM.hpaCurrentReplicas, hpa)} == ${sel(KSM.hpaMaxReplicas, hpa)}`,
          `and`,
          `${sel(KSM.hpaMaxReplicas, hpa)} != ${sel(KSM.hpaMinReplicas, hpa)}`,
        ].join('\n'),
        for: '15m',
        severity: 'warning',
        summary: 'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} is at its maximum',
        description:
          'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum of {{ $value }} replicas for 15 minutes: the load needs more than it may scale to.',
      },
      {
        name: 'MyheroHpaReplicasMismatch',
        expr: `${sel(KSM.hpaDesiredReplicas, hpa)} != ${sel(KSM.hpaCurrentReplicas, hpa)}`,
        for: '15m',
        severity: 'warning',
        summary: 'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has not reached its desired replicas',
        description:
          'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has wanted {{ $value }} replicas for 15 minutes without getting them: new pods are Pending or failing.',
      },
      {
        name: 'MyheroPodCrashLooping',
        expr: `max_over_time(${sel(KSM.containerWaitingReason, { ...pod, reason: 'CrashLoopBackOff' })}[5m]) >= 1`,
        for: '15m',
        severity: 'warning',
        summary: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping',
        description:
          'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes.',
      },
      {
        name: 'MyheroPodNotReady',
        expr: `${sel(KSM.podStatusReady, { ...pod, condition: 'true' })} == 0`,
        for: '15m',
        severity: 'warning',
        summary: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} is not ready',
        description:
          'Pod {{ $labels.namespace }}/{{ $labels.pod }} has failed its readiness probe, or not started, for 15 minutes: its Service sends it no traffic.',
      },
      {
        name: 'MyheroDeploymentReplicasMismatch',
        expr: `${sel(KSM.deploymentSpecReplicas, deployment)} != ${sel(KSM.deploymentAvailableReplicas, deployment)}`,
        for: '15m',
        severity: 'warning',
        summary: 'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} lacks available replicas',
        description:
          'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has asked for {{ $value }} replicas but not had them all available for 15 minutes.',
      },
      {
        // Not KubeNodeNotReady: kube-prometheus has an alert of that name over the same series.
        name: 'MyheroNodeNotReady',
        outsideNamespace: true,
        expr: `${sel(KSM.nodeStatusCondition, node)} == 0`,
        for: '5m',
        severity: 'warning',
        summary: 'Node {{ $labels.node }} is not ready',
        description:
          'Node {{ $labels.node }} has not been Ready for 5 minutes: its pods are evicted and rescheduled, and a small Pi cluster has lost a large share of its capacity.',
      },
    ],
  };
}
